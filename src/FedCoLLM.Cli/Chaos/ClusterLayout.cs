using System.Diagnostics;

namespace FedCoLLM.Cli.Chaos;

/// <summary>
/// Where a chaos cluster's node processes run and how each is started: on loopback with a port per node
/// (<see cref="LoopbackLayout"/>), or in the multi-host lab, one network namespace per node, every node on the same port
/// (<see cref="Lab.LabLayout"/>). The layout names the nodes; <see cref="ChaosCluster"/> runs, kills and restarts them.
/// </summary>
public abstract class ClusterLayout : IDisposable
{
    /// <summary>The role-less node that submits the job and follows it to its end (<c>fedcollm submit --watch</c>).</summary>
    public const string Follower = "follower";

    /// <summary>How long the follower waits for the cluster to answer (submit's --timeout). All nodes start together and
    /// the first seed may wait seed-node-timeout (15 s) for the others; at load average ~60 the cluster formed after more
    /// than submit's default 30 s and the follower gave up before any fault (2 of the first 4 trials of a failover bench).</summary>
    public const string FollowerJoinTimeoutSeconds = "120";

    /// <summary>The nodes that may host the job entity (server role).</summary>
    public abstract IReadOnlyList<string> ServerNodes { get; }
    public abstract string Aggregator { get; }
    /// <summary>Client nodes, one per enrolled client, in enrolment order.</summary>
    public abstract IReadOnlyList<string> ClientNodes { get; }
    /// <summary>Every node but the follower, in the order they start.</summary>
    public abstract IReadOnlyList<string> Nodes { get; }
    /// <summary>Where the follower's report (report.json with the final hashes) is written.</summary>
    public abstract string FollowerReport { get; }
    /// <summary>Whether a restarted node comes back at the address it had (a StatefulSet pod) or at a new one.</summary>
    public abstract bool SameAddressRestart { get; }

    /// <summary>How to start a node's next incarnation.</summary>
    public abstract ProcessStartInfo StartInfo(string name);

    /// <summary>Called before a killed node starts again (a loopback node moves to a new port).</summary>
    public virtual void Restarting(string name) { }

    /// <summary>The node an Akka address belongs to, if it is one of ours.</summary>
    public abstract string? NodeAt(string address);

    public virtual void Dispose() { }
}

using System.Diagnostics;
using FedCoLLM.Actors.Security;
using FedCoLLM.Cli.Chaos;
using FedCoLLM.Cli.Federation;

namespace FedCoLLM.Cli.Lab;

/// <summary>What a lab scenario does to the running cluster.</summary>
public enum LabScenario
{
    /// <summary>Nothing: the job across the lab's hosts, as it runs in a healthy deployment.</summary>
    Job,
    /// <summary>SIGKILL a server node and restart it at the same hostname and port, again and again, while the job runs;
    /// meanwhile a node with a certificate from another CA keeps trying to join (mutual TLS must refuse it every time).</summary>
    Restarts,
    /// <summary>Cut the node hosting the job off the network mid-round, long enough for the cluster to down it, then heal.</summary>
    PartitionJobHost,
    /// <summary>Cut a client off while it trains, long enough for the cluster to down it, then heal.</summary>
    PartitionClient,
}

/// <summary>One restart of a node at its own address: how long the new incarnation took to be Up.</summary>
/// <param name="Island">The new incarnation came Up in a cluster of its own (it saw only this many members) instead of
/// the running one: a split brain, which counts as a failed rejoin.</param>
public sealed record Rejoin(string Node, double Seconds, bool Rejoined, int? Island = null);

/// <summary>What one lab scenario found.</summary>
public sealed record LabResult(
    LabScenario Scenario, bool Completed, bool Identical, IReadOnlyList<string> JournalProblems, IReadOnlyList<Rejoin> Rejoins,
    IReadOnlyList<string> SupervisorRestarts, string? Fault, double WallSeconds, string? Error)
{
    public bool Passed => Completed && Identical && JournalProblems.Count == 0 && Error is null && Rejoins.All(r => r.Rejoined);
}

/// <summary>
/// Runs one scenario in the lab: a fresh database on the lab's PostgreSQL, the cluster of <see cref="LabLayout"/>, the
/// fault, then the checks of <c>fedcollm chaos</c> (<see cref="TrialRun"/>): the job completes, its final adapters are bit-identical to the
/// undisturbed reference, and the journal accepted each client update exactly once per round. Partitions last
/// <see cref="LabOptions.Partition"/>: longer than failure detection plus the split-brain resolver's stable-after, so
/// the cut-off node is downed, exits (code 3) and is restarted by the supervisor, as in a StatefulSet.
/// </summary>
public static partial class LabTrial
{
    const string AkkaHandshakeFailed = "TLS handshake failed (Server side)";
    static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public static async Task<LabResult> Run(int index, LabScenario scenario, LabOptions options, LabSite site, CancellationToken cancellation)
    {
        var wall = Stopwatch.StartNew();
        var directory = Path.Combine(options.Directory, $"{index:D2}-{Name(scenario)}");
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        using var database = ChaosDatabase.Create(site.Admin, $"lab_{index:D2}_{Guid.NewGuid().ToString("N")[..8]}");
        var layout = site.Layout(directory, site.ForNodes(database.Name), options.JobFile, options.DataDir, options.ClientIds);
        var cluster = new ChaosCluster(layout);
        var rejoins = new List<Rejoin>();
        string? fault = null, intrusion = null;
        NodeProcess? intruder = null;
        var checks = new TrialChecks(options.Timeout, options.Reference, database.ConnectionString, options.ClientIds, options.Rounds);
        TrialVerdict verdict;
        try
        {
            verdict = await TrialRun.Run(cluster, Path.Combine(directory, "logs"), checks, async deadline =>
            {
                var follower = cluster[ChaosCluster.Follower];
                switch (scenario)
                {
                    case LabScenario.Restarts:
                        await AllJoined(cluster, deadline);
                        intruder = NodeProcess.Start("intruder", layout.Intruder());
                        for (var i = 0; i < options.Restarts; i++)
                        {
                            var victim = layout.ServerNodes[i % layout.ServerNodes.Count];
                            rejoins.Add(await RestartAtSameAddress(cluster, victim, options, deadline));
                            if (!rejoins[^1].Rejoined) break;
                        }
                        fault = $"{rejoins.Count} same-address restarts of {string.Join(", ", layout.ServerNodes)}" + (follower.HasExited ? " (the job ended before the last)" : "");
                        fault += "; " + IntruderOutcome(cluster, intruder, ref intrusion);
                        break;
                    case LabScenario.PartitionJobHost:
                    {
                        await WaitFor(() => follower.Saw("round 1/") && follower.Saw("· Aggregating") || follower.HasExited, deadline);
                        var host = cluster.JobHost() ?? throw new InvalidOperationException("no server reported hosting the job");
                        fault = await Partition(site.Network, cluster, host, options, deadline);
                        break;
                    }
                    case LabScenario.PartitionClient:
                    {
                        var client = layout.ClientNodes[^1];
                        await WaitFor(() => cluster[client].Saw($"{Federation.NodeTrace.StepStarted} round 1 ClientsTraining") || follower.HasExited, deadline);
                        fault = await Partition(site.Network, cluster, client, options, deadline);
                        break;
                    }
                }
            }, cancellation);
        }
        finally
        {
            if (intruder is not null)
            {
                intruder.Kill();
                Directory.CreateDirectory(Path.Combine(directory, "logs"));
                File.WriteAllText(Path.Combine(directory, "logs", "intruder.log"), intruder.Output);
                intruder.Dispose();
            }
        }
        var error = intrusion is null ? verdict.Error : verdict.Error is null ? intrusion : $"{verdict.Error}; {intrusion}";
        var restarts = cluster.SupervisorRestarts.Select(r => $"{r.Node} exited with {r.ExitCode} at {r.At:HH:mm:ss} and was restarted").ToArray();
        var result = new LabResult(scenario, verdict.Completed, verdict.Identical, verdict.JournalProblems, rejoins, restarts, fault, wall.Elapsed.TotalSeconds, error);
        if (!result.Passed) result = result with { Error = (error is null ? "" : error + "; ") + $"logs in {directory}" };
        database.KeepOnDispose = !result.Passed;
        return result;
    }

    public static string Name(LabScenario scenario) => scenario switch
    {
        LabScenario.Job => "job",
        LabScenario.Restarts => "restarts",
        LabScenario.PartitionJobHost => "partition-job-host",
        LabScenario.PartitionClient => "partition-client",
        _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
    };

    public static LabScenario Parse(string name) =>
        Enum.GetValues<LabScenario>().FirstOrDefault(s => Name(s) == name, (LabScenario)(-1)) is var s && Enum.IsDefined(s)
            ? s : throw new ArgumentException($"--scenario {name}: expected one of {string.Join(", ", Enum.GetValues<LabScenario>().Select(Name))}.");

    /// <summary>SIGKILL, then the same command line at the same hostname, address and port; the time until the new
    /// incarnation is Up (its "joined the cluster" line).</summary>
    static async Task<Rejoin> RestartAtSameAddress(ChaosCluster cluster, string victim, LabOptions options, CancellationToken cancellation)
    {
        cluster.Kill(victim);
        await Task.Delay(options.RestartAfter, cancellation);
        var started = DateTime.UtcNow;
        cluster.Restart(victim);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < options.RejoinTimeout)
        {
            // The supervisor may have replaced the incarnation (it exited: downed, or no seed answered): follow it.
            if (cluster[victim].First(NodeTrace.Joined, started) is { } line)
            {
                // "joined the cluster (N members)": one that rejoined the running cluster sees most of its members.
                var members = int.Parse(MemberCount().Match(line.Text).Groups[1].Value);
                var island = members * 2 <= cluster.Layout.Nodes.Count;
                return new Rejoin(victim, (line.At - started).TotalSeconds, !island, island ? members : null);
            }
            await Task.Delay(Poll, cancellation);
        }
        return new Rejoin(victim, clock.Elapsed.TotalSeconds, false);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\((\d+) members\)")]
    private static partial System.Text.RegularExpressions.Regex MemberCount();

    /// <summary>Cuts the node off, waits, heals; then waits for the node (restarted by the supervisor once it was
    /// downed) to be Up again.</summary>
    static async Task<string> Partition(LabNetwork network, ChaosCluster cluster, string node, LabOptions options, CancellationToken cancellation)
    {
        var cut = DateTime.UtcNow;
        network.Partition(node);
        try { await Task.Delay(options.Partition, cancellation); }
        finally { network.Heal(node); }
        var healed = DateTime.UtcNow;
        await WaitFor(() => cluster[node].First(NodeTrace.Joined, healed - options.Partition) is not null || cluster[ChaosCluster.Follower].HasExited, cancellation);
        var downed = cluster.SupervisorRestarts.Any(r => r.Node == node && r.At >= cut);
        return $"{node} cut off for {options.Partition.TotalSeconds:F0} s" + (downed ? ", downed and restarted by the supervisor" : ", not downed");
    }

    /// <summary>The intruder (a certificate from another CA) must never have joined, and the cluster must have logged
    /// refusing it (<see cref="PeerValidator.Refused"/>).</summary>
    static string IntruderOutcome(ChaosCluster cluster, NodeProcess? intruder, ref string? error)
    {
        if (intruder is null) return "no intruder";
        // Our validator logs the refusal when the intruder's certificate reaches it; when the intruder aborts first (it
        // does not trust our CA), Akka logs the failed handshake on the accepting side instead.
        // Any incarnation counts: the restarts replace the servers that refused it.
        var refusers = cluster.Layout.Nodes
            .Where(n => cluster.Incarnations(n).Any(p => p.Saw(PeerValidator.Refused) || p.Saw(AkkaHandshakeFailed))).ToArray();
        if (intruder.Saw(NodeTrace.Joined)) error = "an intruder with a certificate from another CA joined the cluster";
        else if (refusers.Length == 0) error = "no node logged refusing the intruder (a certificate from another CA)";
        return $"an intruder with another CA's certificate tried to join throughout: refused by {(refusers.Length == 0 ? "none" : string.Join(", ", refusers))}, joined {intruder.Saw(NodeTrace.Joined)}";
    }

    static async Task AllJoined(ChaosCluster cluster, CancellationToken cancellation) =>
        await WaitFor(() => cluster.AllUp, cancellation);

    static async Task WaitFor(Func<bool> condition, CancellationToken cancellation)
    {
        while (!condition()) await Task.Delay(Poll, cancellation);
    }
}

/// <summary>What every scenario of a lab run shares.</summary>
public sealed record LabOptions(
    string Directory, string JobFile, string DataDir, IReadOnlyList<string> ClientIds, int Rounds, (string Slm, string Llm) Reference,
    int Restarts, TimeSpan RestartAfter, TimeSpan RejoinTimeout, TimeSpan Partition, TimeSpan Timeout);

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FedCoLLM.Actors.Security;

namespace FedCoLLM.Cli.Chaos;

/// <summary>
/// A chaos cluster on one host's loopback, for machines without network namespaces: three server-role nodes (server-1,
/// server-2 and the aggregator, which is the third server vote, as hocon/cluster.conf lays out), one node per client and
/// the follower, every node on 127.0.0.1 with a port of its own. Remoting is mutual TLS, as hocon/cluster.conf ships it:
/// the layout makes a CA of its own in its directory and a certificate for each node (127.0.0.1, localhost).
/// </summary>
/// <remarks>
/// A restarted node listens on a new port, as a replacement pod of a Kubernetes Deployment gets a new IP. Restarts at
/// the same address are what the lab tests (Lab/LabLayout.cs); docs/reliability.md has both.
/// </remarks>
public sealed class LoopbackLayout : ClusterLayout
{
    public const string AggregatorNode = "aggregator";
    static readonly string[] Servers = ["server-1", "server-2", AggregatorNode];

    sealed record NodeSpec(string Name, string[] Args)
    {
        public int Port { get; set; }
        public List<int> PastPorts { get; } = [];
    }

    readonly Dictionary<string, NodeSpec> specs = new();
    readonly Dictionary<string, NodeCredentials> credentials = new();
    readonly string postgres;

    /// <summary>The scheme of the nodes' addresses: TLS (akka.ssl.tcp) under the shipped cluster configuration.</summary>
    public const string Scheme = "akka.ssl.tcp";

    public LoopbackLayout(string directory, string postgres, string jobFile, string dataDir, IReadOnlyList<string> clientIds, IReadOnlyList<string> configFiles)
    {
        this.postgres = postgres;
        var ports = FreePorts(Servers.Length + clientIds.Count + 1);
        string[] seeds = [.. ports.Take(Servers.Length).SelectMany(p => new[] { "--seed-node", $"{Scheme}://fedcollm@127.0.0.1:{p}" })];
        string[] config = [.. configFiles.SelectMany(f => new[] { "--config", f })];
        var serverBlobs = Path.Combine(directory, "server-blobs"); // one volume for the server role: the job can move between its nodes
        void Add(string name, int port, params string[] args) =>
            specs[name] = new NodeSpec(name, [.. args, .. config, .. seeds]) { Port = port };
        string Out(string name) => Path.Combine(directory, name);

        Add("server-1", ports[0], "node", "--role", "server", "--blobs", serverBlobs, "--out", Out("server-1"));
        Add("server-2", ports[1], "node", "--role", "server", "--blobs", serverBlobs, "--out", Out("server-2"));
        Add(AggregatorNode, ports[2], "node", "--role", "aggregator", "--role", "server", "--blobs", serverBlobs, "--out", Out(AggregatorNode));
        ClientNodes = clientIds.Select((id, i) => $"client-{i + 1}").ToArray();
        for (var i = 0; i < clientIds.Count; i++)
            Add(ClientNodes[i], ports[3 + i], "node", "--role", "client", "--client-id", clientIds[i], "--data-dir", Path.Combine(dataDir, "clients"), "--out", Out(ClientNodes[i]));
        // The follower submits the job (a no-op after a restart) and follows it; its report names the final adapters.
        Add(Follower, ports[^1], "submit", jobFile, "--watch", "--report-dir", Out(Follower), "--blobs", serverBlobs, "--out", Out(Follower),
            "--timeout", FollowerJoinTimeoutSeconds);
        FollowerReport = Out(Follower);
        using var certificates = RunCertificates.Create(Path.Combine(directory, "tls"));
        foreach (var name in specs.Keys) credentials[name] = certificates.Loopback(name);
    }

    public override IReadOnlyList<string> ServerNodes => Servers;
    public override string Aggregator => AggregatorNode;
    public override IReadOnlyList<string> ClientNodes { get; }
    public override IReadOnlyList<string> Nodes => specs.Keys.Where(n => n != Follower).ToArray();
    public override string FollowerReport { get; }
    public override bool SameAddressRestart => false;

    public override ProcessStartInfo StartInfo(string name)
    {
        var spec = specs[name];
        var info = NodeProcess.StartInfo([.. spec.Args, "--port", $"{spec.Port}"]);
        info.Environment["FEDCOLLM_POSTGRES"] = postgres;
        foreach (var (k, v) in credentials[name].Environment) info.Environment[k] = v;
        return info;
    }

    public override void Restarting(string name)
    {
        var spec = specs[name];
        spec.PastPorts.Add(spec.Port);
        spec.Port = FreePorts(1)[0];
    }

    public override string? NodeAt(string address) =>
        specs.Values.FirstOrDefault(s => s.PastPorts.Append(s.Port).Any(p => address.EndsWith($":{p}", StringComparison.Ordinal)))?.Name;

    /// <summary>Ports free on loopback right now (bound, read, released): for node processes started next.</summary>
    public static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        foreach (var l in listeners) l.Start();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var l in listeners) l.Stop();
        return ports;
    }
}

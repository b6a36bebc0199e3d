using System.Net;
using System.Net.Sockets;
using FedCoLLM.Cli.Federation;

namespace FedCoLLM.Cli.Chaos;

/// <summary>
/// A loopback cluster of `fedcollm node` processes for one chaos trial: three server-role nodes (server-1, server-2 and
/// the aggregator, which is the third server vote, as hocon/cluster.conf lays out), one node per client and a follower
/// (`fedcollm submit --watch`, a role-less node) that submits the job and waits for its end. Any node can be SIGKILLed and restarted with its own command
/// line, as an orchestrator restarts a pod; every incarnation's output is kept for the trial's logs.
/// </summary>
/// <remarks>
/// A restarted node listens on a new port, as a replacement pod of a Kubernetes Deployment gets a new IP. Restarting at
/// the same host:port a second after the kill sometimes never rejoined (Akka.NET 1.5.73: the new incarnation's InitJoin
/// went unanswered for the whole 10-minute trial, while the old one was being downed); see docs/reliability.md.
/// </remarks>
public sealed class ChaosCluster : IDisposable
{
    public const string Follower = "follower";
    public const string Aggregator = "aggregator";
    public static readonly string[] ServerNodes = ["server-1", "server-2", Aggregator];

    sealed record NodeSpec(string Name, string[] Args)
    {
        public int Port { get; set; }
        public List<int> PastPorts { get; } = [];
    }

    readonly Dictionary<string, NodeSpec> specs = new();
    readonly Dictionary<string, NodeProcess> running = new();
    readonly List<NodeProcess> exited = [];
    readonly string postgres;

    public IReadOnlyList<string> ClientNodes { get; }

    public ChaosCluster(string directory, string postgres, string jobFile, string dataDir, IReadOnlyList<string> clientIds, IReadOnlyList<string> configFiles)
    {
        this.postgres = postgres;
        var ports = FreePorts(ServerNodes.Length + clientIds.Count + 1);
        string[] seeds = [.. ports.Take(ServerNodes.Length).SelectMany(p => new[] { "--seed-node", $"akka.tcp://fedcollm@127.0.0.1:{p}" })];
        string[] config = [.. configFiles.SelectMany(f => new[] { "--config", f })];
        var serverBlobs = Path.Combine(directory, "server-blobs"); // one volume for the server role: the job can move between its nodes
        void Add(string name, int port, params string[] args) =>
            specs[name] = new NodeSpec(name, [.. args, .. config, .. seeds]) { Port = port };
        string Out(string name) => Path.Combine(directory, name);

        Add("server-1", ports[0], "node", "--role", "server", "--blobs", serverBlobs, "--out", Out("server-1"));
        Add("server-2", ports[1], "node", "--role", "server", "--blobs", serverBlobs, "--out", Out("server-2"));
        Add(Aggregator, ports[2], "node", "--role", "aggregator", "--role", "server", "--blobs", serverBlobs, "--out", Out(Aggregator));
        ClientNodes = clientIds.Select((id, i) => $"client-{i + 1}").ToArray();
        for (var i = 0; i < clientIds.Count; i++)
            Add(ClientNodes[i], ports[3 + i], "node", "--role", "client", "--client-id", clientIds[i], "--data-dir", Path.Combine(dataDir, "clients"), "--out", Out(ClientNodes[i]));
        // The follower submits the job (a no-op after a restart) and follows it; its report names the final adapters.
        Add(Follower, ports[^1], "submit", jobFile, "--watch", "--report-dir", Out(Follower), "--blobs", serverBlobs, "--out", Out(Follower));
    }

    public NodeProcess this[string name] => running[name];

    public IEnumerable<NodeProcess> Running => running.Values;

    /// <summary>Starts every node, the follower last.</summary>
    public void StartAll()
    {
        foreach (var name in specs.Keys.Where(n => n != Follower)) Start(name);
        Start(Follower);
    }

    public void Start(string name)
    {
        var spec = specs[name];
        var info = NodeProcess.StartInfo([.. spec.Args, "--port", $"{spec.Port}"]);
        info.Environment["FEDCOLLM_POSTGRES"] = postgres;
        running[name] = NodeProcess.Start(name, info);
    }

    public void Kill(string name)
    {
        var node = running[name];
        node.Kill();
        exited.Add(node);
    }

    /// <summary>Starts a killed node again with its command line, on a new port (see the remarks).</summary>
    public void Restart(string name)
    {
        var spec = specs[name];
        spec.PastPorts.Add(spec.Port);
        spec.Port = FreePorts(1)[0];
        Start(name);
    }

    /// <summary>The node listening on an Akka address (akka.tcp://fedcollm@127.0.0.1:PORT), if it is one of ours.</summary>
    public string? NodeAt(string address) =>
        specs.Values.FirstOrDefault(s => s.PastPorts.Append(s.Port).Any(p => address.EndsWith($":{p}", StringComparison.Ordinal)))?.Name;

    /// <summary>The server node currently reporting that it hosts the job entity.</summary>
    public string? JobHost() => ServerNodes.Where(running.ContainsKey).Select(n => running[n])
        .Where(n => !n.HasExited)
        .Select(n => (n.Name, Last: n.Lines.LastOrDefault(l => l.Text.Contains("is hosted on this node") || l.Text.Contains("left this node"))))
        .Where(x => x.Last is not null && x.Last.Text.Contains("is hosted on this node"))
        .OrderByDescending(x => x.Last!.At).Select(x => x.Name).FirstOrDefault();

    /// <summary>Writes every incarnation's output to <paramref name="directory"/>/NAME.N.log.</summary>
    public void WriteLogs(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var group in exited.Concat(running.Values).GroupBy(n => n.Name))
        {
            var i = 0;
            foreach (var node in group)
                File.WriteAllLines(Path.Combine(directory, $"{node.Name}.{++i}.log"), node.Lines.Select(l => $"{l.At:HH:mm:ss.fff} {l.Text}"));
        }
    }

    public void Dispose()
    {
        foreach (var node in running.Values) node.Kill();
        foreach (var node in exited.Concat(running.Values)) node.Dispose();
    }

    /// <summary>Ports free on loopback right now (bound, read, released): for node processes started next.</summary>
    public static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        foreach (var l in listeners) l.Start();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var l in listeners) l.Stop();
        return ports;
    }

    public static readonly string[] ConfigFiles = [.. NodeCommand.DefaultConfigFiles, "chaos.conf"];
}

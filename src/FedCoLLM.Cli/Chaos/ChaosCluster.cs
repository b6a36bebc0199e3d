namespace FedCoLLM.Cli.Chaos;

/// <summary>
/// The node processes of one chaos trial, laid out by a <see cref="ClusterLayout"/>: started, SIGKILLed and restarted
/// with their own command lines, as an orchestrator restarts a pod. Like Kubernetes' restartPolicy Always, it also
/// restarts any node that exits by itself (a node the cluster downed exits with code 3, one that cannot join with 4:
/// Federation/ExitCodes.cs). Every incarnation's output is kept for the trial's logs.
/// </summary>
public sealed class ChaosCluster : IDisposable
{
    public const string Follower = ClusterLayout.Follower;
    static readonly TimeSpan SupervisorPoll = TimeSpan.FromMilliseconds(500);

    readonly Dictionary<string, NodeProcess> running = new();
    readonly List<NodeProcess> exited = [];
    readonly List<(DateTime At, string Node, int ExitCode)> supervisorRestarts = [];
    readonly CancellationTokenSource supervising = new();
    readonly object gate = new();
    Task? supervisor;

    public ChaosCluster(ClusterLayout layout) => Layout = layout;

    public ClusterLayout Layout { get; }
    public IReadOnlyList<string> ClientNodes => Layout.ClientNodes;
    public string Aggregator => Layout.Aggregator;

    /// <summary>The node's running incarnation or, between its exit and its restart (a kill, or the supervisor restarting
    /// a node the cluster downed), its last one: a harness polling a node's output must not fail in that window (the lab's
    /// partition of the job host did, with "the given key 'server-0' was not present").</summary>
    public NodeProcess this[string name]
    {
        get
        {
            lock (gate)
                return running.TryGetValue(name, out var node) ? node
                    : exited.LastOrDefault(n => n.Name == name) ?? throw new KeyNotFoundException($"no node named {name} was ever started");
        }
    }

    public IReadOnlyList<NodeProcess> Running { get { lock (gate) return running.Values.ToArray(); } }

    /// <summary>Every incarnation of <paramref name="name"/> so far, the exited ones first.</summary>
    public IReadOnlyList<NodeProcess> Incarnations(string name)
    {
        lock (gate) return [.. exited.Where(n => n.Name == name), .. running.Values.Where(n => n.Name == name)];
    }

    /// <summary>Nodes that exited by themselves and were started again, with their exit codes.</summary>
    public IReadOnlyList<(DateTime At, string Node, int ExitCode)> SupervisorRestarts { get { lock (gate) return supervisorRestarts.ToArray(); } }

    /// <summary>Starts every node and begins supervising them; once every node is Up (or <paramref name="formation"/> has
    /// passed), starts the follower, which submits the job. Started with the others, the follower joined whatever had
    /// formed: seeds that start before the first seed has formed the cluster got its InitJoinNack and asked again only after
    /// seed-node-timeout (15 s then; now fedcollm.cluster.join-retry, src/FedCoLLM.Actors/Hosting/SeedJoinRetry.cs), so the job could run on the first seed alone, and a kill of that one
    /// server left the follower in a side with no server, which the split-brain resolver downed (`bench failover`, 3 of
    /// 32 trials; docs/reliability.md).</summary>
    public async Task StartAllAsync(TimeSpan formation, CancellationToken cancellation)
    {
        foreach (var name in Layout.Nodes) Start(name);
        supervisor = Task.Run(Supervise);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < formation && !AllUp) await Task.Delay(TimeSpan.FromMilliseconds(100), cancellation);
        Start(Follower);
    }

    /// <summary>Every node (the follower aside) has printed that it is Up, in its running (or last) incarnation.</summary>
    public bool AllUp => Layout.Nodes.All(n => this[n].Saw(Federation.NodeTrace.Joined));

    public void Start(string name)
    {
        var node = NodeProcess.Start(name, Layout.StartInfo(name));
        lock (gate) running[name] = node;
    }

    public void Kill(string name)
    {
        NodeProcess node;
        lock (gate)
        {
            node = running[name];
            running.Remove(name);
            exited.Add(node);
        }
        node.Kill();
    }

    /// <summary>Starts a killed node again with its command line (at its address or a new one: the layout decides).</summary>
    public void Restart(string name)
    {
        Layout.Restarting(name);
        Start(name);
    }

    /// <summary>The node listening on an Akka address, if it is one of ours.</summary>
    public string? NodeAt(string address) => Layout.NodeAt(address);

    /// <summary>The server node currently reporting that it hosts the job entity.</summary>
    public string? JobHost()
    {
        NodeProcess[] servers;
        lock (gate) servers = Layout.ServerNodes.Where(running.ContainsKey).Select(n => running[n]).ToArray();
        return servers.Where(n => !n.HasExited)
            .Select(n => (n.Name, Last: n.Lines.LastOrDefault(l => l.Text.Contains("is hosted on this node") || l.Text.Contains("left this node"))))
            .Where(x => x.Last is not null && x.Last.Text.Contains("is hosted on this node"))
            .OrderByDescending(x => x.Last!.At).Select(x => x.Name).FirstOrDefault();
    }

    async Task Supervise()
    {
        while (!supervising.IsCancellationRequested)
        {
            try { await Task.Delay(SupervisorPoll, supervising.Token); } catch (OperationCanceledException) { return; }
            foreach (var node in Running.Where(n => n.Name != Follower && n.HasExited))
            {
                lock (gate)
                {
                    if (!running.TryGetValue(node.Name, out var current) || current != node) continue;
                    running.Remove(node.Name);
                    exited.Add(node);
                    supervisorRestarts.Add((DateTime.UtcNow, node.Name, node.ExitCode));
                }
                Restart(node.Name);
            }
        }
    }

    /// <summary>Writes every incarnation's output to <paramref name="directory"/>/NAME.N.log.</summary>
    public void WriteLogs(string directory)
    {
        Directory.CreateDirectory(directory);
        NodeProcess[] all;
        lock (gate) all = exited.Concat(running.Values).ToArray();
        foreach (var group in all.GroupBy(n => n.Name))
        {
            var i = 0;
            foreach (var node in group)
                File.WriteAllLines(Path.Combine(directory, $"{node.Name}.{++i}.log"), node.Lines.Select(l => $"{l.At:HH:mm:ss.fff} {l.Text}"));
        }
    }

    public void Dispose()
    {
        supervising.Cancel();
        try { supervisor?.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        NodeProcess[] all;
        lock (gate) all = exited.Concat(running.Values).ToArray();
        foreach (var node in all) node.Kill();
        foreach (var node in all) node.Dispose();
    }

    public static readonly string[] ConfigFiles = [.. Federation.NodeCommand.DefaultConfigFiles, "chaos.conf"];
}

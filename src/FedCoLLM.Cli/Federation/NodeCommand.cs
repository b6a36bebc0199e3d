using System.ComponentModel;
using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Serialization;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Web;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// <c>fedcollm node</c>: one node of a multi-process cluster (hocon/cluster.conf, PostgreSQL journal). Its roles come from
/// --role; a client node says which silos it hosts and where their private data is (--client-id, --data). Nothing on a
/// node's command line changes a job's bytes: every step takes its setup from the job definition it names. Jobs are
/// submitted with <c>fedcollm submit</c>. Runs until Ctrl-C or SIGTERM (exit 0), or until the cluster downs it or it cannot join (<see cref="ExitCodes"/>), so that its supervisor starts a new incarnation.
/// </summary>
public sealed class NodeCommand : AsyncCommand<NodeCommand.Settings>
{
    public static readonly string[] DefaultConfigFiles = ["cluster.conf", "sharding.conf", "serialization.conf", "persistence-postgres.conf"];

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--role <ROLE>")] [Description("Cluster role: server, aggregator or client; repeatable (e.g. --role server --role aggregator).")]
        public string[] Roles { get; init; } = [];
        [CommandOption("--client-id <ID>")] [Description("With --role client: a client silo this node hosts; repeatable.")]
        public string[] ClientIds { get; init; } = [];
        [CommandOption("--data <ID=FILE>")] [Description("A hosted client's private training file (repeatable); it never leaves this node.")]
        public string[] Data { get; init; } = [];
        [CommandOption("--data-dir <DIR>")] [Description("Hosted clients' training files as DIR/ID/train.jsonl (for ids without --data).")]
        public string? DataDir { get; init; }
        [CommandOption("--config <FILE>")] [Description("HOCON files replacing the defaults (cluster, sharding, serialization, persistence-postgres); repeatable.")]
        public string[] Config { get; init; } = [];
        [CommandOption("--out <DIR>")] [Description("This node's directory (blobs/). Default runs/node-PORT.")]
        public string? Out { get; init; }
        [CommandOption("--blobs <DIR>")] [Description("Blob store directory (default OUT/blobs). Server-role nodes must share one for a job to fail over: the journal names blobs its host holds.")]
        public string? Blobs { get; init; }
        [CommandOption("--port <P>")] [Description("Remoting port (default: FEDCOLLM_PORT, else the configuration's, 4101).")]
        public int? Port { get; init; }
        [CommandOption("--seed-node <ADDR>")] [Description("Seed node address (akka.ssl.tcp://fedcollm@HOST:4101 under cluster.conf); repeatable; replaces FEDCOLLM_SEEDS and cluster.conf's seed list.")]
        public string[] SeedNodes { get; init; } = [];

        public override ValidationResult Validate()
        {
            if (Roles.Length == 0) return ValidationResult.Error("--role is required (server, aggregator or client; repeatable).");
            var bad = Roles.FirstOrDefault(r => r is not ("server" or "aggregator" or "client"));
            if (bad is not null) return ValidationResult.Error($"--role {bad}: expected server, aggregator or client.");
            if (Roles.Contains("client") != ClientIds.Length > 0) return ValidationResult.Error("--client-id goes with --role client (and --role client needs at least one --client-id).");
            return ValidationResult.Success();
        }
    }

    public static Config LoadConfig(Settings s)
    {
        var files = s.Config is { Length: > 0 } ? s.Config : DefaultConfigFiles;
        var postgres = files.Any(f => Path.GetFileName(f) == "persistence-postgres.conf");
        if (postgres && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("FEDCOLLM_POSTGRES")))
            throw new InvalidOperationException("FEDCOLLM_POSTGRES is not set: multi-process nodes journal to PostgreSQL (hocon/persistence-postgres.conf). " +
                "Set it to an Npgsql connection string, e.g. \"Host=127.0.0.1;Username=fedcollm;Password=…;Database=fedcollm\".");
        var overrides = new List<string> { $"akka.cluster.roles = [{string.Join(", ", s.Roles.Distinct().Select(r => $"\"{r}\""))}]" };
        if (s.Port is { } port) overrides.Add($"akka.remote.dot-netty.tcp.port = {port}");
        if (s.SeedNodes.Length > 0)
            overrides.Add($"akka.cluster.seed-nodes = [{string.Join(", ", s.SeedNodes.Select(a => $"\"{a}\""))}]");
        var loaded = FederationConfig.Load(files);
        // A node without cluster remoting would start and then wait for ever for a coordinator. (No journal check: a
        // node may run without one, e.g. a client-only node, or the TLS tests' bare pair.)
        FederationConfig.RequireCluster(loaded, files);
        return ConfigurationFactory.ParseString(string.Join("\n", overrides)).WithFallback(loaded);
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var clients = ClientData.Resolve(s.ClientIds, s.Data, s.DataDir);
        var config = LoadConfig(s);
        var port = config.GetInt("akka.remote.dot-netty.tcp.port");
        var outDir = s.Out ?? Path.Combine("runs", $"node-{port}");
        var blobs = s.Blobs ?? Path.Combine(outDir, "blobs");
        // A client node's private keys: fedcollm.identity.keys-dir or FEDCOLLM_KEYS_DIR, else DIR/keys under --out.
        config = config.WithFallback(ConfigurationFactory.ParseString($"{FederationNode.KeysDirectoryKey} = \"{Path.GetFullPath(Path.Combine(outDir, "keys")).Replace("\\", "/")}\""));
        Directory.CreateDirectory(outDir);
        using var stop = new ConsoleStop(cancellation, handleSigterm: true);
        await using var host = FederationHost.Start(config, blobs, clients, NodeTrace.Steps);
        NodeTrace.Transfers(host.System);
        NodeTrace.Membership(host.System);
        var cluster = Cluster.Get(host.System);
        Console.WriteLine($"Node {cluster.SelfAddress} roles [{string.Join(", ", cluster.SelfRoles)}]" +
            (clients.Count > 0 ? $" clients [{string.Join(", ", clients.Select(c => c.ClientId))}]" : "") + $", blobs {blobs}.");
        cluster.RegisterOnMemberUp(() => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {NodeTrace.Joined} ({cluster.State.Members.Count} members)."));
        if (cluster.SelfRoles.Contains("server") && !string.IsNullOrEmpty(host.System.Settings.Config.GetString("akka.persistence.journal.plugin", "")))
        {
            _ = ReportEntityHost(host.Node.Servers, stop.Token);
            // Blob GC of the server store at start, once the node is Up (its journal is then reachable).
            cluster.RegisterOnMemberUp(() => _ = RunCommand.CollectBlobs(host.System, new DirectoryBlobStore(blobs), stop.Token));
        }
        await using var web = await NodeWebServer.StartAsync(new NodeWebContext(host.System, host.Node), stop.Token);
        if (web is not null) Console.WriteLine($"HTTP on {string.Join(", ", web.Urls)} (/healthz/live, /healthz/ready, /metrics, /).");
        var stopped = Task.Delay(Timeout.Infinite, stop.Token);
        if (await Task.WhenAny(stopped, host.System.WhenTerminated) == stopped) return 0;
        return ExitCodes.ForShutdown(CoordinatedShutdown.Get(host.System).ShutdownReason, Console.WriteLine);
    }

    /// <summary>Prints when a job entity starts or stops living on this node (the failover tests and chaos runs read it).</summary>
    static async Task ReportEntityHost(IActorRef region, CancellationToken cancellation)
    {
        var hosted = new HashSet<string>(StringComparer.Ordinal);
        while (!cancellation.IsCancellationRequested)
        {
            try
            {
                var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5), cancellation);
                var now = state.Shards.SelectMany(sh => sh.EntityIds).ToHashSet(StringComparer.Ordinal);
                foreach (var job in now.Except(hosted).Order(StringComparer.Ordinal)) Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] job entity {job} is hosted on this node.");
                foreach (var job in hosted.Except(now).Order(StringComparer.Ordinal)) Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] job entity {job} left this node.");
                hosted = now;
                await Task.Delay(500, cancellation);
            }
            catch (OperationCanceledException) { return; }
            catch (AskTimeoutException) { }
        }
    }
}

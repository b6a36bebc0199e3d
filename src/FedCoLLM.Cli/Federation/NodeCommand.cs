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
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// <c>fedcollm node</c>: one node of a multi-process cluster (hocon/cluster.conf: loopback, static seed nodes,
/// PostgreSQL journal). The roles come from --role; every node derives the same plan as <c>fedcollm run</c>
/// from the same plan options; with --start-job the node also submits the job and follows it to the end like
/// <c>fedcollm run</c> does, then exits. Other nodes run until Ctrl-C or SIGTERM.
/// </summary>
public sealed class NodeCommand : AsyncCommand<NodeCommand.Settings>
{
    public static readonly string[] DefaultConfigFiles = ["cluster.conf", "sharding.conf", "serialization.conf", "persistence-postgres.conf"];

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--role <ROLE>")] [Description("Cluster role: server, aggregator or client; repeatable (e.g. --role server --role aggregator).")]
        public string[] Roles { get; init; } = [];
        [CommandOption("--client-id <ID>")] [Description("With --role client: the client silo(s) this node hosts (benchmark domains, e.g. noun.animal); repeatable.")]
        public string[] ClientIds { get; init; } = [];
        [CommandOption("--client-data <FILE>")] [Description("With one --client-id: its private training file (default: the benchmark's clients/ID/train.jsonl).")]
        public string? ClientData { get; init; }
        [CommandOption("--config <FILE>")] [Description("HOCON files replacing the defaults (cluster, sharding, serialization, persistence-postgres); repeatable.")]
        public string[] Config { get; init; } = [];
        [CommandOption("--out <DIR>")] [Description("This node's directory (blobs/, and report.json + report.md on the --start-job node). Default runs/node-PORT.")]
        public string? Out { get; init; }
        [CommandOption("--blobs <DIR>")] [Description("Blob store directory (default OUT/blobs). Server-role nodes must share one for the job to fail over: the journal names blobs its host holds.")]
        public string? Blobs { get; init; }
        [CommandOption("--port <P>")] [Description("Remoting port on 127.0.0.1 (default: the configuration's, 4101).")]
        public int? Port { get; init; }
        [CommandOption("--seed-node <ADDR>")] [Description("Seed node address (akka.tcp://fedcollm@127.0.0.1:4101); repeatable; replaces cluster.conf's seed list.")]
        public string[] SeedNodes { get; init; } = [];
        [CommandOption("--start-job")] [Description("Submit the job (idempotent: a job already in the journal resumes) and follow it to the end, printing its phases; then exit.")]
        public bool StartJob { get; init; }
        // The plan options: the same on every node (as for `fedcollm run`).
        [CommandOption("--clients <N>")] public int? Clients { get; init; }
        [CommandOption("--rounds <R>")] public int? Rounds { get; init; }
        [CommandOption("--seed <S>")] [DefaultValue(42L)] public long Seed { get; init; }
        [CommandOption("--quick")] public bool Quick { get; init; }
        [CommandOption("--data <DIR>")] [Description("Benchmark folder (as for fedcollm run).")] [DefaultValue("data/wordnet")] public string Data { get; init; } = "data/wordnet";
        [CommandOption("--models <DIR>")] [DefaultValue("models")] public string Models { get; init; } = "models";
        [CommandOption("--threads <N>")] [Description("TorchSharp threads per node (default 1: several nodes share the machine).")] [DefaultValue(1)] public int Threads { get; init; }

        public override ValidationResult Validate()
        {
            // A node without roles only submits and follows the job (chaos runs keep that apart from the nodes they kill).
            if (Roles.Length == 0 && !StartJob) return ValidationResult.Error("--role is required (server, aggregator or client; repeatable), unless the node only follows the job (--start-job).");
            var bad = Roles.FirstOrDefault(r => r is not ("server" or "aggregator" or "client"));
            if (bad is not null) return ValidationResult.Error($"--role {bad}: expected server, aggregator or client.");
            if (Roles.Contains("client") != ClientIds.Length > 0) return ValidationResult.Error("--client-id goes with --role client (and --role client needs at least one --client-id).");
            if (ClientData is not null && ClientIds.Length != 1) return ValidationResult.Error("--client-data needs exactly one --client-id.");
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
        return ConfigurationFactory.ParseString(string.Join("\n", overrides)).WithFallback(FederationConfig.Load(files));
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var wall = Stopwatch.StartNew();
        var plan = RunPlan.Create(s.Data, s.Models, s.Clients ?? RunPlan.DefaultClients(s.Quick), s.Rounds ?? RunPlan.DefaultRounds(s.Quick), s.Seed, s.Quick, s.Threads);
        var unknown = s.ClientIds.Where(id => plan.Clients.All(c => c.ClientId != id)).ToArray();
        if (unknown.Length > 0)
        {
            AnsiConsole.MarkupLine($"[red]--client-id {Markup.Escape(string.Join(", ", unknown))}:[/] the plan's clients are {Markup.Escape(string.Join(", ", plan.Spec.ClientIds))}.");
            return 2;
        }
        var config = LoadConfig(s);
        var port = config.GetInt("akka.remote.dot-netty.tcp.port");
        var outDir = s.Out ?? Path.Combine("runs", $"node-{port}");
        var blobs = s.Blobs ?? Path.Combine(outDir, "blobs");
        Directory.CreateDirectory(outDir);
        var clients = plan.Clients.Where(c => s.ClientIds.Contains(c.ClientId))
            .Select(c => s.ClientData is null ? c : c with { DataPath = s.ClientData }).ToArray();

        var system = LocalCluster.CreateSystem(config);
        using var stop = new ConsoleStop(cancellation, handleSigterm: true);
        try
        {
            using var steps = new FederationSteps(plan.Setup);
            var store = new DirectoryBlobStore(blobs);
            var runner = NodeTrace.Steps(new LearningStepRunner(steps, store, plan.Server));
            var node = FederationNode.Start(system, new NodeOptions(plan.Spec.JobId, blobs, runner) { Clients = clients });
            NodeTrace.Transfers(system);
            var cluster = Cluster.Get(system);
            Console.WriteLine($"Node {cluster.SelfAddress} roles [{string.Join(", ", cluster.SelfRoles)}]" +
                (clients.Length > 0 ? $" clients [{string.Join(", ", clients.Select(c => c.ClientId))}]" : "") + $", blobs {blobs}.");
            cluster.RegisterOnMemberUp(() => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] joined the cluster ({cluster.State.Members.Count} members)."));
            if (cluster.SelfRoles.Contains("server"))
                _ = ReportEntityHost(node.Servers, plan.Spec.JobId, stop.Token);

            if (!s.StartJob)
            {
                try { await Task.Delay(Timeout.Infinite, stop.Token); } catch (OperationCanceledException) { }
                return 0;
            }

            var accepted = await Submit(node.Servers, plan.Spec, stop.Token);
            if (accepted is null) return 130;
            if (accepted.Outcome == Outcome.Rejected)
            {
                AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(accepted.Detail ?? "")}");
                return 2;
            }
            Console.WriteLine(accepted.Outcome == Outcome.Duplicate
                ? $"Resuming job {plan.Spec.JobId} from the PostgreSQL journal ({accepted.Detail})."
                : $"Started job {plan.Spec.JobId}: {plan.Clients.Count} clients ({string.Join(", ", plan.Spec.ClientIds)}), {plan.Spec.Rounds} round(s), seed {plan.Spec.Seed}.");
            var final = await RunCommand.Follow(node.Servers, plan.Spec.JobId, stop.Token);
            if (final is null)
            {
                Console.WriteLine("Stopped following; the job goes on in the cluster (run with --start-job again to follow it).");
                return 130;
            }
            return RunCommand.Conclude(final, store, plan.Setup, outDir, wall.Elapsed);
        }
        finally
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
        }
    }

    /// <summary>Submits the job through the job region (a proxy on non-server nodes), retrying while the cluster forms.</summary>
    static async Task<JobAccepted?> Submit(IActorRef servers, JobSpec spec, CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            try
            {
                return await servers.Ask<JobAccepted>(new StartFederation(spec.JobId, spec), TimeSpan.FromSeconds(20), cancellation);
            }
            catch (AskTimeoutException)
            {
                Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] waiting for the cluster to host the job entity…");
            }
            catch (OperationCanceledException) { }
        }
        return null;
    }

    /// <summary>Prints when the job entity starts or stops living on this node (the failover tests and chaos runs read it).</summary>
    static async Task ReportEntityHost(IActorRef region, string jobId, CancellationToken cancellation)
    {
        var hosted = false;
        while (!cancellation.IsCancellationRequested)
        {
            try
            {
                var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5), cancellation);
                var now = state.Shards.Any(sh => sh.EntityIds.Contains(jobId));
                if (now != hosted)
                    Console.WriteLine(now ? $"[{DateTime.Now:HH:mm:ss}] job entity {jobId} is hosted on this node." : $"[{DateTime.Now:HH:mm:ss}] job entity {jobId} left this node.");
                hosted = now;
                await Task.Delay(500, cancellation);
            }
            catch (OperationCanceledException) { return; }
            catch (AskTimeoutException) { }
        }
    }
}

using FedCoLLM.Actors.Blobs;
using System.ComponentModel;
using System.Diagnostics;
using Akka.Actor;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Web;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// <c>fedcollm run [JOB-FILE…]</c>: the local single-process cluster (every role in one ActorSystem that joins itself,
/// journaled to SQLite in --out) with a client silo for each enrolled client this machine has data for; submits the job
/// files (by default the built-in benchmark, jobs/wordnet.conf) and follows them to their end. Running it again resumes
/// from the journal; a finished job prints its results.
/// </summary>
public sealed class RunCommand : AsyncCommand<RunCommand.Settings>
{
    public const string DefaultJob = "jobs/wordnet.conf";
    public const string QuickJob = "jobs/wordnet-quick.conf";

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[JOB-FILE]")] [Description("Job files to submit and follow (default jobs/wordnet.conf; jobs/wordnet-quick.conf with --quick).")]
        public string[] JobFiles { get; init; } = [];
        [CommandOption("--quick")] [Description("Run jobs/wordnet-quick.conf (a smoke test of the whole round in about a minute).")]
        public bool Quick { get; init; }
        [CommandOption("--out <DIR>")] [Description("Run directory: journal.db, blobs/, and per job JOB/report.json, report.md, final adapters.")] [DefaultValue("runs/fedcollm")]
        public string Out { get; init; } = "runs/fedcollm";
        [CommandOption("--data <ID=FILE>")] [Description("A client's private training file (repeatable); overrides --data-dir for that client.")]
        public string[] Data { get; init; } = [];
        [CommandOption("--data-dir <DIR>")] [Description("Client training files as DIR/ID/train.jsonl.")] [DefaultValue("data/wordnet/clients")]
        public string DataDir { get; init; } = "data/wordnet/clients";
        [CommandOption("--config <FILE>")] [Description("HOCON files replacing the defaults (local, sharding, serialization, persistence-sqlite); repeatable.")]
        public string[] Config { get; init; } = [];
    }

    /// <summary>The local client silos' own stores (<see cref="FederationHost.Start"/>): what they fetch and send is counted.</summary>
    internal static string ClientBlobs(string outDir) => Path.Combine(outDir, "client-blobs");

    /// <summary>Blob GC (<see cref="BlobCollector"/>): never fails the run; a sweep that cannot finish is retried by the next.
    /// With <paramref name="outDir"/>, the local client silos' stores are swept by the same journal too.</summary>
    internal static async Task CollectBlobs(Akka.Actor.ActorSystem system, DirectoryBlobStore store, CancellationToken cancellation, string? outDir = null)
    {
        try
        {
            var collection = await BlobCollector.CollectAsync(system, store, cancellation);
            if (collection.Removed > 0 || collection.TempFilesRemoved > 0) Console.WriteLine(collection.ToString());
            if (outDir is not null && Directory.Exists(ClientBlobs(outDir)))
            {
                var jobs = await BlobCollector.ReadJobsAsync(system, cancellation);
                foreach (var silo in Directory.GetDirectories(ClientBlobs(outDir)).Order(StringComparer.Ordinal))
                {
                    var swept = BlobCollector.Collect(new DirectoryBlobStore(silo), jobs);
                    if (swept.Removed > 0 || swept.TempFilesRemoved > 0) Console.WriteLine($"{Path.GetFileName(silo)}: {swept}");
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Console.Error.WriteLine($"Blob GC skipped ({e.GetType().Name}: {e.Message}); nothing was removed that a job needs, and the next run sweeps again.");
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var wall = Stopwatch.StartNew();
        var files = s.JobFiles.Length > 0 ? s.JobFiles : [s.Quick ? QuickJob : DefaultJob];
        var specs = new List<JobSpec>();
        foreach (var file in files)
        {
            if (JobFiles.TryLoad(file) is not { } spec) return 2;
            specs.Add(spec);
        }
        var enrolled = specs.SelectMany(j => j.ClientIds).ToHashSet(StringComparer.Ordinal);
        if (ClientData.Parse(s.Data).Keys.FirstOrDefault(id => !enrolled.Contains(id)) is { } stranger)
        {
            AnsiConsole.MarkupLine($"[red]Refused --data {Markup.Escape(stranger)}=…:[/] no job here enrols client \"{Markup.Escape(stranger)}\" (enrolled: {Markup.Escape(string.Join(", ", enrolled.Order(StringComparer.Ordinal)))}).");
            return 2;
        }
        IReadOnlyList<LocalClient> clients;
        try
        {
            clients = ClientData.Resolve(enrolled, s.Data, s.DataDir);
        }
        catch (Exception e) when (e is ArgumentException or IOException)
        {
            AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(e.Message)}");
            return 2;
        }
        Akka.Configuration.Config config;
        try
        {
            config = LocalCluster.LoadConfig(s.Out, s.Config, requireNode: true);
        }
        catch (Exception e) when (e is ConfigFileException or ArgumentException or FileNotFoundException)
        {
            AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(e.Message)}");
            return 2;
        }
        if (SqliteJournalFile.Unreadable(LocalCluster.JournalPath(s.Out)) is { } unreadable)
        {
            AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(unreadable)}");
            return 2;
        }
        Directory.CreateDirectory(s.Out);
        await using var host = FederationHost.Start(config, Path.Combine(s.Out, "blobs"), clients, clientBlobDirectory: ClientBlobs(s.Out));
        var address = LocalCluster.AddressFile(s.Out);
        File.WriteAllText(address, Akka.Cluster.Cluster.Get(host.System).SelfAddress.ToString());
        using var stop = new ConsoleStop(cancellation, handleSigterm: true);
        var blobStore = new DirectoryBlobStore(Path.Combine(s.Out, "blobs"));
        await CollectBlobs(host.System, blobStore, stop.Token, s.Out); // a sweep at start: jobs that ended in an earlier run
        try
        {
            // FEDCOLLM_HTTP_PORT: health, metrics and the status page of the run, on loopback only (a workstation, not a pod).
            await using var web = await NodeWebServer.StartAsync(new NodeWebContext(host.System, host.Node), stop.Token, host: "127.0.0.1");
            if (web is not null) Console.WriteLine($"Status page on {string.Join(", ", web.Urls)} (also /healthz/live, /healthz/ready, /metrics).");
            foreach (var spec in specs)
            {
                var accepted = await JobFiles.Submit(host.Node.Servers, spec, stop.Token);
                if (accepted is null) return 130;
                if (accepted.Outcome == Outcome.Rejected)
                {
                    AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(accepted.Detail ?? "")}");
                    return 2;
                }
                var before = (await host.Node.Servers.Ask<JobStatus>(new GetJobStatus(spec.JobId), TimeSpan.FromMinutes(1), stop.Token)).State;
                Console.WriteLine(accepted.Outcome == Outcome.Accepted
                    ? $"Started job {spec.JobId} ({spec.Strategy}): {spec.ClientIds.Count} clients ({string.Join(", ", spec.ClientIds)}), {spec.Rounds} round(s), seed {spec.Seed}, spec {spec.DefinitionRef.Sha256[..12]}."
                    : before.Phase.IsTerminal
                        ? $"Job {spec.JobId} in {LocalCluster.JournalPath(s.Out)} had already ended ({before.Phase}); its results:"
                        : $"Resuming job {spec.JobId} from {LocalCluster.JournalPath(s.Out)} at round {before.Round}, {before.Phase}.");
            }
            var followed = await JobWatch.Follow(host.Node.Servers, specs.Select(j => j.JobId).ToArray(), stop.Token);
            if (followed is null)
            {
                Console.WriteLine($"Stopped. Run the same command again to resume from {LocalCluster.JournalPath(s.Out)}.");
                return 130;
            }
            var finals = await JobWatch.AwaitFinalDownloads(host.Node.Servers, followed, stop.Token);
            var code = 0;
            foreach (var spec in specs)
                code = Math.Max(code, JobConclusion.Write(finals[spec.JobId], host.Store, Path.Combine(s.Out, spec.JobId), wall.Elapsed));
            await CollectBlobs(host.System, blobStore, stop.Token, s.Out); // the jobs have ended and their final adapters are exported
            return code;
        }
        finally
        {
            File.Delete(address);
        }
    }
}

using System.ComponentModel;
using System.Diagnostics;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// <c>fedcollm submit FILE</c>: validates a job file, then journals its canonical spec in a running cluster as the job's
/// first event. The same spec again is a no-op; another spec under the same id is refused, naming the first key that
/// differs. With --watch it follows the job to its end and writes its report.
/// </summary>
public sealed class SubmitCommand : AsyncCommand<SubmitCommand.Settings>
{
    public sealed class Settings : ClusterAccessSettings
    {
        [CommandArgument(0, "<JOB-FILE>")] [Description("The job file (HOCON, docs/jobs.md).")]
        public string JobFile { get; init; } = "";
        [CommandOption("--watch")] [Description("Follow the job until it ends, then write report.json, report.md (and the final adapters when --blobs holds them) to --report-dir.")]
        public bool Watch { get; init; }
        [CommandOption("--report-dir <DIR>")] [Description("Where --watch writes the report (default OUT/JOB).")]
        public string? ReportDir { get; init; }
        [CommandOption("--blobs <DIR>")] [Description("A blob store holding the job's adapters (a server node's), for exporting the final adapters.")]
        public string? Blobs { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var wall = Stopwatch.StartNew();
        if (JobFiles.TryLoad(s.JobFile) is not { } spec) return 2;
        using var stop = new ConsoleStop(cancellation, handleSigterm: true);
        await using var cluster = await ClusterAccess.ConnectAsync(s, stop.Token);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, cluster.Lost);
        var accepted = await JobFiles.Submit(cluster.Servers, spec, waiting.Token);
        if (accepted is null) return cluster.Ended() ?? 130;
        switch (accepted.Outcome)
        {
            case Outcome.Rejected:
                AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(accepted.Detail ?? "")}");
                return 2;
            case Outcome.Accepted:
                Console.WriteLine($"Submitted job {spec.JobId} ({spec.Strategy}, spec {spec.DefinitionRef.Sha256[..12]}): {spec.ClientIds.Count} clients, {spec.Rounds} round(s).");
                break;
            default:
                Console.WriteLine($"Job {spec.JobId} was already submitted with this spec ({accepted.Detail}); nothing changed.");
                break;
        }
        if (!s.Watch) return 0;
        var finals = await JobWatch.Follow(cluster.Servers, [spec.JobId], waiting.Token);
        if (finals is null && cluster.Ended() is { } ended) return ended;
        if (finals is null)
        {
            Console.WriteLine("Stopped following; the job goes on in the cluster (`fedcollm watch` follows it again).");
            return 130;
        }
        var store = new DirectoryBlobStore(s.Blobs ?? Path.Combine(s.Out, "blobs"));
        return JobConclusion.Write(finals[spec.JobId], store, s.ReportDir ?? Path.Combine(s.Out, spec.JobId), wall.Elapsed);
    }
}

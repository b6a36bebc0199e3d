using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Federation;

/// <summary><c>fedcollm watch JOB</c>: live progress of a job until it ends (a live table in a terminal, plain lines when
/// redirected). Exits 0 when the job completed, 1 when it failed or was cancelled.</summary>
public sealed class WatchCommand : AsyncCommand<WatchCommand.Settings>
{
    public sealed class Settings : ClusterAccessSettings
    {
        [CommandArgument(0, "<JOB>")] [Description("The job id.")]
        public string JobId { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        using var stop = new ConsoleStop(cancellation);
        await using var cluster = await ClusterAccess.ConnectAsync(s, stop.Token);
        if (!await JobLookup.Exists(cluster, s.JobId, stop.Token)) return 2;
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, cluster.Lost);
        var finals = await JobWatch.Follow(cluster.Servers, [s.JobId], waiting.Token);
        if (finals is null) return cluster.Ended() ?? 130;
        var final = finals[s.JobId];
        Console.WriteLine($"Job {s.JobId}: {final.Phase} after {final.History.Count} committed round(s).");
        if (final.History.Count > 0) ResultsTable.Print(final);
        return final.Phase == Actors.Rounds.RoundPhase.Completed ? 0 : 1;
    }
}

/// <summary>Only listed jobs are asked for: asking the job region for an unknown id would create (and remember) an empty entity.</summary>
static class JobLookup
{
    public static async Task<bool> Exists(ClusterAccess cluster, string jobId, CancellationToken cancellation)
    {
        var jobs = await cluster.List(cancellation);
        if (jobs.Any(j => j.JobId == jobId)) return true;
        AnsiConsole.MarkupLine($"[red]No job {Markup.Escape(jobId)}[/] in this cluster; its jobs: {Markup.Escape(jobs.Count == 0 ? "none" : string.Join(", ", jobs.Select(j => j.JobId)))}.");
        return false;
    }
}

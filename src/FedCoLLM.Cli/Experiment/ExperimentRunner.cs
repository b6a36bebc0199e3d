using System.Diagnostics;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Cli.Federation;
using Spectre.Console;

namespace FedCoLLM.Cli.Experiment;

/// <summary>
/// Runs an experiment's jobs one after another on the local cluster and collects the finished ones. Resuming is the
/// journal's: a job submitted again with the same spec is a duplicate, and following it returns its persisted state at
/// once (a finished job trains nothing) or continues it from its last event. A job with a record
/// (<see cref="ExperimentRecords"/>) for the same definition is not submitted at all, so an experiment also resumes from
/// its records alone. The tuning stage and the reported run both go through here, so both resume the same way.
/// </summary>
public static class ExperimentRunner
{
    /// <summary>How a run of jobs ended: <see cref="Code"/> 0 when every job completed (then <see cref="Finished"/> has
    /// them all), 1 when one ended otherwise, 2 when one was refused, 130 when stopped; the finished jobs either way.</summary>
    public sealed record RunResult(int Code, IReadOnlyList<(ExperimentJob Job, RoundState State, TimeSpan? Wall)> Finished);

    /// <param name="recordsDir">Where the jobs' records are read and written (<see cref="ExperimentRecords"/>).</param>
    public static async Task<RunResult> RunAsync(FederationHost host, IEnumerable<ExperimentJob> jobs, string outDir, string recordsDir, CancellationToken stop)
    {
        var finished = new List<(ExperimentJob Job, RoundState State, TimeSpan? Wall)>();
        foreach (var job in jobs)
        {
            (RoundState State, TimeSpan? Wall)? recorded;
            try
            {
                recorded = ExperimentRecords.Read(recordsDir, job, warning => AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(warning)}[/]"));
            }
            catch (InvalidDataException e)
            {
                AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(e.Message)}");
                return new RunResult(2, finished);
            }
            if (recorded is not null)
            {
                Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] == {job.JobId}: from its record in {recordsDir}");
                finished.Add((job, recorded.Value.State, recorded.Value.Wall));
                continue;
            }
            var jobWall = Stopwatch.StartNew();
            var accepted = await JobFiles.Submit(host.Node.Servers, job.Spec, stop);
            if (accepted is null) return new RunResult(130, finished);
            if (accepted.Outcome == Outcome.Rejected)
            {
                AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(accepted.Detail ?? "")}");
                return new RunResult(2, finished);
            }
            Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] == {job.JobId} ({job.Method}{(job.Domain is null ? "" : " " + job.Domain)}, seed {job.Seed}): "
                + (accepted.Outcome == Outcome.Duplicate ? $"resuming ({accepted.Detail})" : "started"));
            var followed = await JobWatch.Follow(host.Node.Servers, [job.JobId], stop);
            if (followed is null)
            {
                Console.WriteLine($"Stopped. Run the same command again to resume from {LocalCluster.JournalPath(outDir)}.");
                return new RunResult(130, finished);
            }
            // The clients' final downloads are reported after the job ends; the report counts them.
            var finals = await JobWatch.AwaitFinalDownloads(host.Node.Servers, followed, stop);
            var state = finals[job.JobId];
            if (state.Phase != RoundPhase.Completed)
            {
                Console.WriteLine($"Job {job.JobId} ended {state.Phase}: {state.FailureReason}. The report lists what finished.");
                return new RunResult(1, finished);
            }
            bool ranHere = accepted.Outcome == Outcome.Accepted || jobWall.Elapsed > TimeSpan.FromSeconds(30);
            finished.Add((job, state, ranHere ? jobWall.Elapsed : null));
            ExperimentRecords.Write(recordsDir, job, state, ranHere ? jobWall.Elapsed : null, host.Store);
        }
        return new RunResult(0, finished);
    }
}

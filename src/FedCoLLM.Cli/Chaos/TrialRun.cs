using System.Diagnostics;

namespace FedCoLLM.Cli.Chaos;

/// <summary>What every trial checks at its end, and against what.</summary>
/// <param name="Journal">The harness's connection string to the trial's database.</param>
/// <param name="SecureAggregation">The job runs secure aggregation: the audit counts protocol messages, not updates.</param>
public sealed record TrialChecks(TimeSpan Timeout, (string Slm, string Llm) Reference, string Journal, IReadOnlyList<string> ClientIds, int Rounds,
    bool SecureAggregation = false);

/// <summary>What a trial found once its fault was done: the job completed, its final adapters are bit-identical to the
/// undisturbed reference, the journal accepted each update exactly once; or why not.</summary>
public sealed record TrialVerdict(bool Completed, bool Identical, IReadOnlyList<string> JournalProblems, string? Error)
{
    public bool Passed => Completed && Identical && JournalProblems.Count == 0 && Error is null;
}

/// <summary>
/// The frame every trial shares — chaos kills (<see cref="ChaosTrial"/>) and lab scenarios (Lab/LabTrial.cs) alike:
/// start the cluster, apply the fault under the trial's deadline, wait for the follower, check the outcome; and
/// whatever happens, stop every node and keep its log.
/// </summary>
public static class TrialRun
{
    /// <summary>How long a trial waits for every node to be Up before it starts the follower anyway.</summary>
    static readonly TimeSpan Formation = TimeSpan.FromMinutes(2);

    /// <param name="fault">Applied once every node is started and the follower has been started on the formed cluster; gets
    /// the deadline's token.</param>
    public static async Task<TrialVerdict> Run(ChaosCluster cluster, string logs, TrialChecks checks, Func<CancellationToken, Task> fault, CancellationToken cancellation)
    {
        var wall = Stopwatch.StartNew();
        try
        {
            await cluster.StartAllAsync(Formation, cancellation);
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
            {
                deadline.CancelAfter(checks.Timeout);
                await fault(deadline.Token);
            }
            var follower = cluster[ChaosCluster.Follower];
            var left = checks.Timeout - wall.Elapsed;
            var exit = left > TimeSpan.Zero ? await follower.WaitForExit(left, cancellation) : null; // Ctrl-C/SIGTERM stops a trial at once
            var completed = exit == 0 && follower.Saw("· Completed");
            var error = exit is null ? $"the job did not finish within {checks.Timeout.TotalMinutes:F0} min"
                : exit != 0 ? $"the follower exited with {exit}" : null;
            var identical = completed && ChaosTrial.FinalHashes(cluster.Layout.FollowerReport) == checks.Reference;
            var problems = JournalAudit.Check(await JournalAudit.ReadEvents(checks.Journal, cancellation), checks.ClientIds, checks.Rounds, checks.SecureAggregation);
            return new TrialVerdict(completed, identical, problems, error);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return new TrialVerdict(false, false, [], $"the trial did not finish within {checks.Timeout.TotalMinutes:F0} min");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new TrialVerdict(false, false, [], e.Message);
        }
        finally
        {
            cluster.Dispose();
            cluster.WriteLogs(logs);
        }
    }
}

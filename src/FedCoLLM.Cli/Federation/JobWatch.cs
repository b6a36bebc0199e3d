using System.Diagnostics;
using Akka.Actor;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using Spectre.Console;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// Follows jobs until they end. In a terminal it is a live table (round, phase, each worker's progress); when output is
/// redirected it prints one line per phase change and, at most every few seconds, the progress of the current phase's
/// workers, so logs (and the crash and chaos harnesses that read them) stay whole.
/// </summary>
public static class JobWatch
{
    /// <summary>Polls <paramref name="jobIds"/> until each completes, fails or is cancelled; returns their final states, or
    /// null when <paramref name="cancellation"/> stopped the watch first.</summary>
    public static async Task<IReadOnlyDictionary<string, RoundState>?> Follow(IActorRef servers, IReadOnlyList<string> jobIds, CancellationToken cancellation)
    {
        var watches = jobIds.Select(id => new Watch(id, jobIds.Count > 1 ? $"[{id}] " : "")).ToList();
        var live = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        try
        {
            if (live)
                await AnsiConsole.Live(Render(watches)).AutoClear(false).StartAsync(async context =>
                {
                    while (await PollAll(servers, watches, printLines: false, cancellation))
                    {
                        context.UpdateTarget(Render(watches));
                        await Task.Delay(500, cancellation);
                    }
                    context.UpdateTarget(Render(watches));
                });
            else
                while (await PollAll(servers, watches, printLines: true, cancellation))
                    await Task.Delay(500, cancellation);
        }
        catch (OperationCanceledException) { return null; }
        foreach (var w in watches.Where(w => w.State?.FailureReason is not null))
            Console.WriteLine($"{w.Prefix}Job {w.State!.Phase.ToString().ToLowerInvariant()}: {w.State.FailureReason}");
        return watches.ToDictionary(w => w.JobId, w => w.State!);
    }

    /// <summary>How long a completed job's report waits for the clients' reports of its final download. Every client that
    /// received the last broadcast reports it, even when it moved nothing (<see cref="GlobalSlmReady.Final"/>), and clients
    /// prefetch it while the server still evaluates, so the wait ends early; it is paid in full only when a client never
    /// got the broadcast (it was away), and the report then names it.</summary>
    public static readonly TimeSpan FinalDownloadWait = TimeSpan.FromSeconds(10);

    /// <summary>A job completes with its last commit; its clients fetch the final SLM adapter from that round's broadcast and
    /// report it, which may land a moment later. Waits (at most <see cref="FinalDownloadWait"/>) until every completed job
    /// has them all (<see cref="RoundState.FinalDownloadsPending"/>) and returns the states then; the report names any missing.</summary>
    public static async Task<IReadOnlyDictionary<string, RoundState>> AwaitFinalDownloads(IActorRef servers, IReadOnlyDictionary<string, RoundState> finals, CancellationToken cancellation)
    {
        var states = finals.ToDictionary();
        var waited = Stopwatch.StartNew();
        // A journal without any measured transfer (written before the counters) will not get them now: no wait for it.
        static bool Waiting(RoundState s) => !s.Transfers.IsEmpty && s.FinalDownloadsPending().Count > 0;
        while (states.Values.Any(Waiting) && waited.Elapsed < FinalDownloadWait)
        {
            await Task.Delay(250, cancellation);
            foreach (var id in states.Where(kv => Waiting(kv.Value)).Select(kv => kv.Key).ToList())
            {
                try
                {
                    states[id] = (await servers.Ask<JobStatus>(new GetJobStatus(id), TimeSpan.FromSeconds(10), cancellation)).State;
                }
                catch (AskTimeoutException) { }
            }
        }
        return states;
    }

    /// <summary>Asks every unfinished job for its status; false once all have ended.</summary>
    static async Task<bool> PollAll(IActorRef servers, List<Watch> watches, bool printLines, CancellationToken cancellation)
    {
        foreach (var w in watches.Where(w => w.State?.Phase.IsTerminal != true))
        {
            JobStatus status;
            try
            {
                status = await servers.Ask<JobStatus>(new GetJobStatus(w.JobId), TimeSpan.FromSeconds(30), cancellation);
            }
            catch (AskTimeoutException) { continue; }
            w.Update(status, printLines);
        }
        return watches.Any(w => w.State?.Phase.IsTerminal != true);
    }

    static Table Render(IEnumerable<Watch> watches)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("job", "round", "phase", "progress");
        foreach (var w in watches)
            table.AddRow(Markup.Escape(w.JobId), w.State is { } s ? $"{s.Round}/{s.Job?.Rounds}" : "…",
                Markup.Escape(w.State?.Phase.ToString() ?? "connecting"), Markup.Escape(w.Progress));
        return table;
    }

    sealed class Watch(string jobId, string prefix)
    {
        public string JobId => jobId;
        public string Prefix => prefix;
        public RoundState? State { get; private set; }
        public string Progress { get; private set; } = "";
        string? lastPhase;
        RoundState? lastState;
        string? lastLive;
        readonly Stopwatch lastLiveAt = Stopwatch.StartNew();

        public void Update(JobStatus status, bool printLines)
        {
            var state = State = status.State;
            // Only the current phase's workers: a client's last count must not linger through the server's phases.
            Progress = string.Join("  ", status.Live.Where(p => p.Round == state.Round && p.Phase == state.Phase)
                .Select(p => $"{p.Worker} {p.Step}/{p.TotalSteps} loss {p.Loss:F3}"));
            if (!printLines) return;
            var phase = $"round {state.Round}/{state.Job?.Rounds} attempt {state.Attempt} · {state.Phase}";
            if (phase != lastPhase)
            {
                // Polling can miss a short phase; print the phases passed since the last poll too, so a log lists every one.
                foreach (var (round, passed) in PassedSince(lastState, state))
                    Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {prefix}round {round}/{state.Job?.Rounds} attempt {state.Attempt} · {passed}");
                Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {prefix}{phase}");
                lastPhase = phase;
                lastState = state;
                if (state.History.Count > 0 && state.Round == state.History[^1].Round + 1 && state.Phase == state.Job!.Phases[0].Name)
                    ResultsTable.PrintRound(state, state.History[^1]);
            }
            if (Progress.Length > 0 && Progress != lastLive && lastLiveAt.Elapsed > TimeSpan.FromSeconds(5))
            {
                Console.WriteLine($"           {prefix}{Progress}");
                lastLive = Progress;
                lastLiveAt.Restart();
            }
        }

        /// <summary>The plan's phases strictly between two polled states of the same attempt (none across a retried round
        /// or a failure).</summary>
        static IEnumerable<(int Round, RoundPhase Phase)> PassedSince(RoundState? before, RoundState now)
        {
            if (before?.Job is null || now.Job is null || now.Phase == RoundPhase.Failed || now.Phase == RoundPhase.Cancelled) yield break;
            if (now.Round == before.Round && now.Attempt != before.Attempt) yield break;
            var plan = now.Job.Phases.Select(p => p.Name).ToList();
            int target = now.Phase == RoundPhase.Completed ? plan.Count : plan.IndexOf(now.Phase);
            if (target < 0) yield break;
            var (round, index) = before.Round == 0 ? (1, 0) : (before.Round, plan.IndexOf(before.Phase) + 1);
            if (before.Round != 0 && index == 0) yield break;
            while (round < now.Round || (round == now.Round && index < target))
            {
                if (index >= plan.Count)
                {
                    (round, index) = (round + 1, 0);
                    continue;
                }
                yield return (round, plan[index++]);
            }
        }
    }
}

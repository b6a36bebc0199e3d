using System.Diagnostics;
using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Simulation;

/// <summary>
/// Issue 15 item 5 (<c>fedcollm bench round --simulated</c>): what a FedCoLLM round
/// costs besides its compute. A simulated federation (<see cref="SimulatedCluster"/>: the production actors, journal,
/// blob stores and chunked transfers) runs <see cref="Settings.Rounds"/> rounds of <see cref="Settings.Clients"/>
/// clients whose steps answer at once with blobs of the built-in job's sizes; everything the round then takes is
/// orchestration, divided by a real round's time for <c>overhead_fraction</c>.
/// </summary>
public static class OverheadBench
{
    /// <param name="RealRoundSeconds">A real round of the built-in job, and where that figure comes from.</param>
    /// <param name="Directory">A scratch directory (journal, blob stores); created, and left for inspection.</param>
    public sealed record Settings(int Clients, int Rounds, double RealRoundSeconds, string RealRoundSource, string Directory)
    {
        public SimulatedSizes Sizes { get; init; } = SimulatedSizes.BuiltInJob;
        public SimulationJournal Journal { get; init; } = SimulationJournal.Sqlite;
        public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
    }

    public sealed record Result(
        int Clients, int Rounds, string Journal, long SlmAdapterBytes, long LlmAdapterBytes, long TeacherLogitsBytes,
        double RealRoundSeconds, string RealRoundSource,
        IReadOnlyList<double> RoundSeconds, double MedianRoundSeconds, double OverheadFraction,
        double MedianStepSecondsPerRound, double OverheadFractionExcludingStubIo,
        long JournalWritesPerRound, double JournalWriteSecondsPerRound, double JournalWriteMedianMs,
        long BytesTransferredPerRound, long FetchesPerRound, double FetchSecondsPerRound,
        double ServerDispatchMedianMs, double ServerDispatchSecondsPerRound, double ServerCompletionSecondsPerRound,
        double ClientStartMedianMs, double ClientStartMaxMs, double ClientsPhaseSecondsMedian, double ServerPhasesSecondsMedian,
        bool ExactlyOnce, IReadOnlyList<PhaseTiming> Phases);

    /// <summary>One phase's median time across the measured rounds: from the event that entered it to the one that left it.</summary>
    public sealed record PhaseTiming(string Phase, double MedianMs, double StepMedianMs, double DispatchMedianMs, double CompletionMedianMs);

    public static async Task<Result> RunAsync(Settings s, Action<string>? log = null)
    {
        var sizes = s.Sizes;
        var clients = SimulatedJob.ClientIds(s.Clients);
        using var meters = new FederationMeters();
        await using var cluster = await SimulatedCluster.StartAsync(s.Directory, s.Journal, clients, sizes, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromMinutes(2));
        var jobId = SimulatedCluster.JobId;
        // Round 1 also waits for the silos to find the job (the directory poll); it is run but not measured.
        var spec = SimulatedJob.Spec(jobId, s.Clients, s.Rounds + 1, sizes);
        await cluster.SubmitAsync(spec);
        await cluster.WaitForAsync(jobId, st => st.Round >= 2 || st.Phase.IsTerminal, s.Timeout, "round 1 (warm-up) to commit");
        var before = meters.Read();
        var final = await cluster.WaitForAsync(jobId, st => st.Phase.IsTerminal, s.Timeout, "the job to end");
        var totals = meters.Read().Minus(before);
        if (final.Phase != RoundPhase.Completed) throw new InvalidOperationException($"The simulated job ended {final.Phase}: {final.FailureReason}");

        var events = await cluster.EventsAsync(jobId);
        var rounds = RoundTimeline.Of(events).Where(r => r.Round >= 2).ToArray();
        var spans = cluster.ServerRunner.Spans.Concat(cluster.ClientRunner.Spans).Where(x => x.Round >= 2).ToArray();
        var problems = rounds.Select(r => r.ExactlyOnceProblem(clients)).OfType<string>().ToArray();
        foreach (var p in problems) log?.Invoke(p);

        var roundSeconds = rounds.Select(r => r.Seconds).ToArray();
        var stepSeconds = rounds.Select(r => UnionSeconds(spans.Where(x => x.Round == r.Round))).ToArray();
        var dispatch = new List<double>();
        var completion = new List<double>();
        var clientStarts = new List<double>();
        var phaseTimes = new Dictionary<string, List<double>>();
        var stepTimes = new Dictionary<string, List<double>>();
        var dispatchTimes = new Dictionary<string, List<double>>();
        var completionTimes = new Dictionary<string, List<double>>();
        var clientsPhase = new List<double>();
        var serverPhases = new List<double>();
        foreach (var r in rounds)
        {
            var previous = r.Opened;
            var inRound = spans.Where(x => x.Round == r.Round).ToArray();
            foreach (var (_, e) in r.Events.Where(e => e.Event is PhaseCompleted or SlmBroadcast or RoundCommitted))
            {
                var phase = e switch { PhaseCompleted p => p.Phase, SlmBroadcast => RoundPhase.SlmBroadcast, _ => RoundPhase.Evaluating };
                Add(phaseTimes, phase.ToString(), (e.At - previous).TotalMilliseconds);
                if (phase == RoundPhase.Aggregating)
                {
                    // The clients phase ends with the last accepted update (the aggregation starts then).
                    var lastUpdate = r.Events.Select(x => x.Event).OfType<ClientUpdateAccepted>().Max(u => u.At);
                    Add(phaseTimes, RoundPhase.ClientsTraining.ToString(), (lastUpdate - r.Opened).TotalMilliseconds);
                    clientsPhase.Add((lastUpdate - r.Opened).TotalSeconds);
                    previous = lastUpdate;
                    Add(phaseTimes, phase.ToString(), (e.At - previous).TotalMilliseconds, replaceLast: true);
                }
                if (inRound.FirstOrDefault(x => x.Phase == phase && x.ClientId is null) is { } step)
                {
                    dispatch.Add((step.Started - previous).TotalSeconds);
                    completion.Add((e.At - step.Ended).TotalSeconds);
                    Add(dispatchTimes, phase.ToString(), (step.Started - previous).TotalMilliseconds);
                    Add(completionTimes, phase.ToString(), (e.At - step.Ended).TotalMilliseconds);
                    Add(stepTimes, phase.ToString(), (step.Ended - step.Started).TotalMilliseconds);
                }
                previous = e.At;
            }
            serverPhases.Add((r.Committed - r.Events.Select(x => x.Event).OfType<ClientUpdateAccepted>().Max(u => u.At)).TotalSeconds);
            clientStarts.AddRange(inRound.Where(x => x.ClientId is not null).Select(x => (x.Started - r.Opened).TotalMilliseconds));
        }
        int n = rounds.Length;
        double median = Median(roundSeconds), medianSteps = Median(stepSeconds);
        return new Result(s.Clients, n, s.Journal.Name, SimulatedAdapterBytes(sizes.SlmParameters), SimulatedAdapterBytes(sizes.LlmParameters), sizes.TeacherLogitsBytes,
            s.RealRoundSeconds, s.RealRoundSource,
            roundSeconds, median, median / s.RealRoundSeconds, medianSteps, Math.Max(0, median - medianSteps) / s.RealRoundSeconds,
            totals.JournalWrites / n, totals.JournalSeconds / n, totals.JournalWrites == 0 ? 0 : totals.JournalSeconds / totals.JournalWrites * 1000,
            totals.BytesFetched / n, totals.Fetches / n, totals.FetchSeconds / n,
            Median(dispatch) * 1000, dispatch.Sum() / n, completion.Sum() / n,
            Median(clientStarts), clientStarts.DefaultIfEmpty(0).Max(), Median(clientsPhase), Median(serverPhases),
            problems.Length == 0 && n == s.Rounds,
            phaseTimes.Select(kv => new PhaseTiming(kv.Key, Median(kv.Value), MedianOf(stepTimes, kv.Key), MedianOf(dispatchTimes, kv.Key), MedianOf(completionTimes, kv.Key))).ToArray());

        static double MedianOf(Dictionary<string, List<double>> d, string key) => d.TryGetValue(key, out var list) ? Median(list) : 0;

        static void Add(Dictionary<string, List<double>> d, string key, double value, bool replaceLast = false)
        {
            if (!d.TryGetValue(key, out var list)) d[key] = list = [];
            if (replaceLast && list.Count > 0) list[^1] = value; else list.Add(value);
        }
    }

    static long SimulatedAdapterBytes(long parameters) => SimulatedAdapter.Create(parameters, 0).LongLength;

    /// <summary>Seconds during which at least one of <paramref name="spans"/> ran.</summary>
    public static double UnionSeconds(IEnumerable<StepSpan> spans)
    {
        double total = 0;
        DateTimeOffset? start = null, end = null;
        foreach (var x in spans.OrderBy(x => x.Started))
        {
            if (end is null || x.Started > end)
            {
                if (end is not null) total += (end.Value - start!.Value).TotalSeconds;
                (start, end) = (x.Started, x.Ended);
            }
            else if (x.Ended > end) end = x.Ended;
        }
        if (end is not null) total += (end.Value - start!.Value).TotalSeconds;
        return total;
    }

    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return 0;
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

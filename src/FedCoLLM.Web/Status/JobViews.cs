using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;

namespace FedCoLLM.Web.Status;

/// <summary>
/// Turns what the cluster answers (the directory's entry and the job entity's <see cref="JobStatus"/>: its persisted
/// <see cref="RoundState"/> plus live progress) into the page's views. Pure, so it is tested without a cluster; it reads
/// the same fields as <c>fedcollm status</c> and <c>report.json</c> (metrics <c>slm/acc/SET</c>, <c>*_loss</c>).
/// </summary>
public static class JobViews
{
    public static JobSummaryView Summary(JobEntry entry, JobStatus? status)
    {
        var state = status?.State;
        return new JobSummaryView(entry.JobId, state?.Job?.Strategy, state?.Phase.ToString() ?? entry.EndedIn ?? "Unknown",
            state?.Round ?? 0, state?.Job?.Rounds, state?.History.Count ?? 0, entry.Enrolled, entry.ListedAt, entry.EndedIn,
            state?.FailureReason, status is not null);
    }

    /// <summary>Null while the entity has no job (it was listed but its start is not persisted yet).</summary>
    public static JobDetailView? Detail(JobEntry entry, JobStatus status, DateTimeOffset now)
    {
        var state = status.State;
        if (state.Job is not { } job) return null;
        var sets = EvaluationSets(state);
        // Only the current round and phase: a worker's last report must not linger into the next phase.
        var live = status.Live.Where(p => p.Round == state.Round && p.Phase == state.Phase && !state.Phase.IsTerminal)
            .OrderBy(p => p.Worker, StringComparer.Ordinal).Select(p => Live(p, state)).ToList();
        var history = state.History.Select(r => Round(r, sets)).ToList();
        return new JobDetailView(job.JobId, job.Strategy, state.Phase.ToString(), state.Round, job.Rounds, state.Attempt, job.Seed,
            job.DefinitionRef.Sha256, job.MinUpdates, state.ClientDeadline, state.FailureReason, Phases(state), live,
            job.ClientIds.Select(c => Client(state, c, live)).ToList(), sets, history, Accuracy(state, sets), Loss(state),
            entry.ListedAt, now);
    }

    /// <summary>The job's evaluation sets in its order (the CLI's accuracy columns). A state without a definition (the
    /// state machine's own tests) falls back to the sets its metrics name.</summary>
    public static IReadOnlyList<string> EvaluationSets(RoundState state)
    {
        if (state.Job is { Definition.Length: > 0 } job)
            return JobSpecs.DefinitionOf(job).Evaluation.Sets.Select(s => s.Name).ToList();
        return state.History.SelectMany(r => r.Metrics.Keys).Concat(state.Baseline.Keys)
            .Select(k => k.Split('/')).Where(p => p.Length == 3 && p[1] == "acc").Select(p => p[2])
            .Distinct().Order(StringComparer.Ordinal).ToList();
    }

    static IReadOnlyList<PhaseView> Phases(RoundState state)
    {
        var plan = state.Job!.Phases;
        var current = plan.Select(p => p.Name).ToList().IndexOf(state.Phase);
        return plan.Select((p, i) => new PhaseView(p.Name.ToString(), p.RunBy.ToString(),
            state.Phase == RoundPhase.Completed || (current >= 0 && i < current) ? "done"
            : i == current ? "current" : "pending")).ToList();
    }

    /// <summary>The scoring steps report the accuracy they just measured where training steps report their loss
    /// (<c>LearningStepRunner.Evaluate</c>), so the page must not call it a loss.</summary>
    static LiveView Live(LiveProgress p, RoundState state) =>
        new(p.Worker, p.Round, p.Phase.ToString(), p.Step, p.TotalSteps, Finite(p.Loss),
            p.Phase == RoundPhase.Initializing || state.Plan?.Operation == Operations.Evaluate ? "accuracy" : "loss");

    static ClientView Client(RoundState state, string id, IReadOnlyList<LiveView> live)
    {
        var progress = live.FirstOrDefault(l => l.Worker == id);
        var clientsPhase = state.Plan?.RunBy == PhaseRunner.Clients;
        var status = state.Updates.ContainsKey(id) ? "submitted"
            : state.Missing.Contains(id) ? "missed"
            : state.Rejected.ContainsKey(id) ? "refused" // its update failed the screen (ClientUpdateRejected)
            : clientsPhase ? (progress is null ? "waiting" : "training")
            : state.Phase.IsTerminal ? "done"
            : "idle";
        if (state.Updates.TryGetValue(id, out var open))
            return new ClientView(id, status, state.Round, Finite(open.TrainLoss), open.SampleCount, null, progress);
        var last = state.History.LastOrDefault(r => r.Participants.Contains(id));
        return last is null
            ? new ClientView(id, status, null, null, null, null, progress)
            : new ClientView(id, status, last.Round, Metric(last.Metrics, $"client/{id}/train_loss"), null, last.At, progress);
    }

    static RoundView Round(CommittedRound r, IReadOnlyList<string> sets)
    {
        var accuracy = new SortedDictionary<string, double?>(StringComparer.Ordinal);
        foreach (var model in Models)
            foreach (var set in sets)
                accuracy[$"{model}/{set}"] = Metric(r.Metrics, $"{model}/acc/{set}");
        var losses = new SortedDictionary<string, double?>(StringComparer.Ordinal);
        foreach (var (key, value) in r.Metrics.Where(m => IsLoss(m.Key)))
            losses[key] = Finite(value);
        return new RoundView(r.Round, r.Attempt, r.Participants, r.Missing, MeanAccuracy(r.Metrics, "slm", sets),
            MeanAccuracy(r.Metrics, "llm", sets), accuracy, losses, r.Slm.Sha256, r.Llm.Sha256, r.At);
    }

    static readonly string[] Models = ["slm", "llm"];

    /// <summary>Mean accuracy over the evaluation sets per model, round 0 being the pre-trained models' baseline (when
    /// the job scored one).</summary>
    static IReadOnlyList<SeriesView> Accuracy(RoundState state, IReadOnlyList<string> sets)
    {
        var rounds = state.History.Select(r => (r.Round, (IReadOnlyDictionary<string, double>)r.Metrics))
            .Prepend((0, state.Baseline)).ToList();
        return Models.Select(model => new SeriesView(model.ToUpperInvariant(), rounds
                .Select(r => (r.Item1, Mean: MeanAccuracy(r.Item2, model, sets)))
                .Where(p => p.Mean is not null).Select(p => new PointView(p.Item1, p.Mean!.Value)).ToList()))
            .Where(s => s.Points.Count > 0).ToList();
    }

    /// <summary>A line per loss the rounds report: each client's fine-tuning loss and each server phase's final loss
    /// (the <c>*_first_loss</c> companions are left out; they are the same run's first step).</summary>
    static IReadOnlyList<SeriesView> Loss(RoundState state) =>
        state.History.SelectMany(r => r.Metrics.Where(m => IsLoss(m.Key) && double.IsFinite(m.Value)).Select(m => (m.Key, Point: new PointView(r.Round, m.Value))))
            .GroupBy(p => p.Key).OrderBy(g => g.Key.StartsWith("client/", StringComparison.Ordinal)).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new SeriesView(LossName(g.Key), g.Select(p => p.Point).ToList())).ToList();

    static bool IsLoss(string key) => key.EndsWith("_loss", StringComparison.Ordinal) && !key.EndsWith("_first_loss", StringComparison.Ordinal);

    /// <summary>"client/ID/train_loss" reads as "ID train"; "slm_distill_loss" as "slm distill".</summary>
    static string LossName(string key) =>
        key.StartsWith("client/", StringComparison.Ordinal) && key.LastIndexOf('/') is var slash and > 7
            ? $"{key[7..slash]} train"
            : key[..^"_loss".Length].Replace('_', ' ');

    static double? MeanAccuracy(IReadOnlyDictionary<string, double> metrics, string model, IReadOnlyList<string> sets)
    {
        var values = sets.Select(s => Metric(metrics, $"{model}/acc/{s}")).Where(v => v is not null).Select(v => v!.Value).ToList();
        return values.Count == 0 ? null : values.Average();
    }

    static double? Metric(IReadOnlyDictionary<string, double> metrics, string key) =>
        metrics.TryGetValue(key, out var v) ? Finite(v) : null;

    static double? Finite(double v) => double.IsFinite(v) ? v : null;
}

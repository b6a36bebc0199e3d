using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Telemetry;

/// <summary>
/// Turns one job entity's journaled events into <see cref="FederationMetrics"/>: round and phase durations (from the
/// events' own timestamps, so a phase that spanned a crash counts the downtime too), losses and evaluation accuracy.
/// Replayed events only move the clocks, so a recovered entity measures its current phase from when the journal says it
/// began, and records nothing twice.
/// </summary>
public sealed class JobEventMetrics(string jobId)
{
    DateTimeOffset? roundOpened, phaseEntered;

    /// <summary>A snapshot is taken right after a commit, which opened the round the state is in.</summary>
    public void Restored(RoundState state)
    {
        if (state.History.Count > 0) roundOpened = phaseEntered = state.History[^1].At;
    }

    /// <summary>After recovery: the accuracies of the committed rounds (a restarted node exports them again).</summary>
    public void Recovered(RoundState state)
    {
        RecordAccuracy(0, state.Baseline);
        foreach (var round in state.History) RecordAccuracy(round.Round, round.Metrics);
    }

    /// <param name="live">False while replaying the journal: only the clocks move.</param>
    public void Observe(RoundState before, IRoundEvent e, RoundState after, bool live)
    {
        var phaseLeft = before.Phase != after.Phase || before.Round != after.Round || before.Attempt != after.Attempt;
        if (live)
        {
            if (phaseLeft && phaseEntered is { } entered && before.Phase != RoundPhase.NotStarted)
                FederationMetrics.PhaseEnded(jobId, before.Phase, e.At - entered);
            if (e is RoundCommitted && roundOpened is { } opened) FederationMetrics.RoundCommitted(jobId, e.At - opened);
            Record(before, e);
        }
        if (phaseLeft) phaseEntered = e.At;
        // A retried attempt stays in the same round: its duration runs from the round's first opening.
        if (e is AdaptersInitialized or RoundCommitted) roundOpened = e.At;
    }

    void Record(RoundState before, IRoundEvent e)
    {
        switch (e)
        {
            case ClientUpdateAccepted u:
                FederationMetrics.PhaseLoss(jobId, before.Phase, u.ClientId, u.TrainLoss);
                break;
            case PhaseCompleted p:
                RecordLosses(p.Phase, p.Metrics);
                break;
            case AdaptersInitialized a:
                RecordAccuracy(0, a.Baseline);
                break;
            case RoundCommitted c:
                RecordLosses(before.Phase, c.Metrics);
                RecordAccuracy(c.Round, c.Metrics);
                break;
        }
    }

    // Step metrics name a loss "<what>_loss" (LearningStepRunner); "<what>_first_loss" is the loss before training.
    void RecordLosses(RoundPhase phase, IReadOnlyDictionary<string, double> metrics)
    {
        foreach (var (key, value) in metrics)
            if (key.EndsWith("_loss", StringComparison.Ordinal) && !key.EndsWith("_first_loss", StringComparison.Ordinal))
                FederationMetrics.PhaseLoss(jobId, phase, null, value);
    }

    // Evaluation metrics are "<slm|llm>/acc/<set>" (LearningStepRunner.Evaluate).
    void RecordAccuracy(int round, IReadOnlyDictionary<string, double>? metrics)
    {
        foreach (var (key, value) in metrics ?? new Dictionary<string, double>())
            if (key.Split('/', 3) is [var model and ("slm" or "llm"), "acc", var set])
                FederationMetrics.EvaluationAccuracy(jobId, round, set, model, value);
    }
}

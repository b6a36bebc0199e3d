namespace FedCoLLM.Actors.Rounds;

/// <summary>Where a federation job stands. The round phases follow FedCoLLM's round
/// (fedcollm.md §1): clients fine-tune → FedAvg → LLM teacher logits → LLM→SLM distillation →
/// SLM broadcast → SLM teacher logits → SLM→LLM distillation → evaluation, whose completion commits the round.</summary>
public enum RoundPhase
{
    NotStarted,
    /// <summary>The server creates the seeded initial LoRA adapters of both models.</summary>
    Initializing,
    ClientsTraining,
    Aggregating,
    LlmTeacherLogits,
    SlmDistillation,
    SlmBroadcast,
    SlmTeacherLogits,
    LlmDistillation,
    /// <summary>Supervised fine-tuning of the LLM on a training set the server holds (the Centralized reference:
    /// the pooled client data); not part of FedCoLLM, where the server never sees client data.</summary>
    LlmFineTuning,
    /// <summary>Scores the round's SLM and LLM; its completion is the round commit.</summary>
    Evaluating,
    Completed,
    Failed,
}

/// <summary>The phase sequences of one round. A strategy is a plan (plus the data its job is given): FedAvg skips the
/// distillation phases; Standalone is a FedAvg job with a single client; Centralized is a single "client" holding the
/// pooled training data, and the server fine-tunes the LLM on the same pooled data.</summary>
public static class RoundPlans
{
    public static IReadOnlyList<RoundPhase> FedCoLLM { get; } =
    [
        RoundPhase.ClientsTraining, RoundPhase.Aggregating, RoundPhase.LlmTeacherLogits, RoundPhase.SlmDistillation,
        RoundPhase.SlmBroadcast, RoundPhase.SlmTeacherLogits, RoundPhase.LlmDistillation, RoundPhase.Evaluating,
    ];

    public static IReadOnlyList<RoundPhase> FedAvg { get; } =
        [RoundPhase.ClientsTraining, RoundPhase.Aggregating, RoundPhase.SlmBroadcast, RoundPhase.Evaluating];

    public static IReadOnlyList<RoundPhase> Centralized { get; } =
        [RoundPhase.ClientsTraining, RoundPhase.Aggregating, RoundPhase.SlmBroadcast, RoundPhase.LlmFineTuning, RoundPhase.Evaluating];

    /// <summary>Throws naming the problem when a plan cannot run: it must start with client training and end with evaluation.</summary>
    public static void Validate(IReadOnlyList<RoundPhase> plan)
    {
        if (plan.Count < 2 || plan[0] != RoundPhase.ClientsTraining || plan[^1] != RoundPhase.Evaluating)
            throw new ArgumentException($"JobSpec.Phases [{string.Join(", ", plan)}] must start with ClientsTraining and end with Evaluating.", "Phases");
        if (plan.Distinct().Count() != plan.Count)
            throw new ArgumentException($"JobSpec.Phases [{string.Join(", ", plan)}] lists a phase twice.", "Phases");
        foreach (var p in plan)
            if (p is RoundPhase.NotStarted or RoundPhase.Initializing or RoundPhase.Completed or RoundPhase.Failed)
                throw new ArgumentException($"JobSpec.Phases contains {p}, which is not a round phase.", "Phases");
        int Index(RoundPhase p) => plan.ToList().IndexOf(p);
        void Before(RoundPhase a, RoundPhase b)
        {
            if (Index(b) >= 0 && (Index(a) < 0 || Index(a) > Index(b)))
                throw new ArgumentException($"JobSpec.Phases: {b} needs {a} before it.", "Phases");
        }
        Before(RoundPhase.LlmTeacherLogits, RoundPhase.SlmDistillation);
        Before(RoundPhase.SlmTeacherLogits, RoundPhase.LlmDistillation);
    }
}

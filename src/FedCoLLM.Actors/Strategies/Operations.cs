namespace FedCoLLM.Actors.Strategies;

/// <summary>
/// The operations a phase can run: the vocabulary between a strategy (which arranges them into a round) and the
/// step runner (<c>Workers/LearningStepRunner.cs</c>, which maps each to the learning core). Each has a fixed runner
/// and arity; the slots it reads and writes are the strategy's choice.
/// </summary>
public static class Operations
{
    /// <summary>Clients fine-tune the SLM adapter on their private data (answer-token CE). In: SLM. Out: their updates.</summary>
    public const string TrainSlm = "train-slm";
    /// <summary>FedAvg of the updates, weighted by sample count. In: updates. Out: an SLM adapter.</summary>
    public const string FedAvg = "fedavg";
    /// <summary>The LLM's top-k logits on the public set. In: LLM adapter. Out: teacher logits.</summary>
    public const string LlmTeacherLogits = "llm-teacher-logits";
    /// <summary>The SLM's top-k logits on the public set. In: SLM adapter. Out: teacher logits.</summary>
    public const string SlmTeacherLogits = "slm-teacher-logits";
    /// <summary>LLM → SLM: CE + λ·KD on the public set. In: SLM adapter, LLM logits. Out: SLM adapter.</summary>
    public const string DistillSlm = "distill-slm";
    /// <summary>SLM → LLM: CE + λ·KD on the public set. In: LLM adapter, SLM logits. Out: LLM adapter.</summary>
    public const string DistillLlm = "distill-llm";
    /// <summary>Server SFT of the LLM on the job's server training set (the Centralized reference). In: LLM adapter. Out: LLM adapter.</summary>
    public const string FineTuneLlm = "fine-tune-llm";
    /// <summary>Server SFT of the LLM on the job's public set (the "LLM on the public set alone" reference, issue 16), with
    /// the LLM distillation's settings. In: LLM adapter. Out: LLM adapter.</summary>
    public const string FineTuneLlmOnPublic = "fine-tune-llm-on-public";
    /// <summary>Offers the SLM adapter to the registered clients. In: SLM adapter.</summary>
    public const string BroadcastSlm = "broadcast-slm";
    /// <summary>Scores both adapters on the evaluation sets; its completion commits the round. In: SLM, LLM.</summary>
    public const string Evaluate = "evaluate";

    public sealed record Signature(PhaseRunner RunBy, int Inputs, int Outputs);

    public static IReadOnlyDictionary<string, Signature> Signatures { get; } = new Dictionary<string, Signature>(StringComparer.Ordinal)
    {
        [TrainSlm] = new(PhaseRunner.Clients, 1, 1),
        [FedAvg] = new(PhaseRunner.Aggregator, 1, 1),
        [LlmTeacherLogits] = new(PhaseRunner.Server, 1, 1),
        [SlmTeacherLogits] = new(PhaseRunner.Server, 1, 1),
        [DistillSlm] = new(PhaseRunner.Server, 2, 1),
        [DistillLlm] = new(PhaseRunner.Server, 2, 1),
        [FineTuneLlm] = new(PhaseRunner.Server, 1, 1),
        [FineTuneLlmOnPublic] = new(PhaseRunner.Server, 1, 1),
        [BroadcastSlm] = new(PhaseRunner.Broadcast, 1, 0),
        [Evaluate] = new(PhaseRunner.Server, 2, 0),
    };
}

using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Strategies;

/// <summary>
/// The LLM fine-tuned on the public set alone (issue 16's ablation): no clients, no distillation. Each round the server
/// trains the LLM with answer-token CE on the job's public set, using <c>training.llm-distillation</c>'s settings (what the
/// LLM gets in FedCoLLM's SLM → LLM step, minus the KD term), then scores both models; the SLM is never trained and stays
/// the pre-trained one. What FedCoLLM's LLM gains beyond this row is what the SLM's logits carried.
/// </summary>
public sealed class LlmPublicStrategy : IStrategy
{
    public string Name => "llm-public";

    public IReadOnlyList<PhasePlan> Phases { get; } =
    [
        new(RoundPhase.LlmFineTuning, PhaseRunner.Server, Operations.FineTuneLlmOnPublic, [Slots.Llm], [Slots.Llm]),
        new(RoundPhase.Evaluating, PhaseRunner.Server, Operations.Evaluate, [Slots.Slm, Slots.Llm], []),
    ];
}

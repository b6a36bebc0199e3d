using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Strategies;

/// <summary>
/// FedCoLLM (arXiv 2411.11707, Algorithm 1): clients fine-tune the SLM adapter on private data; the aggregator averages
/// the updates by sample count; on the public set the server distils the LLM into the averaged SLM, sends that SLM back,
/// then distils the SLM into the LLM (both directions CE + λ·KD on the teacher's top-k logits); evaluation commits.
/// </summary>
public sealed class FedCoLLMStrategy : IStrategy
{
    public string Name => "fedcollm";

    public IReadOnlyList<PhasePlan> Phases { get; } =
    [
        new(RoundPhase.ClientsTraining, PhaseRunner.Clients, Operations.TrainSlm, [Slots.Slm], [Slots.Updates]),
        new(RoundPhase.Aggregating, PhaseRunner.Aggregator, Operations.FedAvg, [Slots.Updates], [Slots.Slm]),
        new(RoundPhase.LlmTeacherLogits, PhaseRunner.Server, Operations.LlmTeacherLogits, [Slots.Llm], [Slots.LlmLogits]),
        new(RoundPhase.SlmDistillation, PhaseRunner.Server, Operations.DistillSlm, [Slots.Slm, Slots.LlmLogits], [Slots.Slm]),
        new(RoundPhase.SlmBroadcast, PhaseRunner.Broadcast, Operations.BroadcastSlm, [Slots.Slm], []),
        new(RoundPhase.SlmTeacherLogits, PhaseRunner.Server, Operations.SlmTeacherLogits, [Slots.Slm], [Slots.SlmLogits]),
        new(RoundPhase.LlmDistillation, PhaseRunner.Server, Operations.DistillLlm, [Slots.Llm, Slots.SlmLogits], [Slots.Llm]),
        new(RoundPhase.Evaluating, PhaseRunner.Server, Operations.Evaluate, [Slots.Slm, Slots.Llm], []),
    ];
}

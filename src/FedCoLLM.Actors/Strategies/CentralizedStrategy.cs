using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Strategies;

/// <summary>
/// The Centralized reference (the paper's upper bound): one "client" holds the pooled client data and fine-tunes the
/// SLM, while the server fine-tunes the LLM on the same pooled data (the job's <c>data.server-training-set</c>). Not a
/// federated method: the server sees client data.
/// </summary>
public sealed class CentralizedStrategy : IStrategy
{
    public string Name => "centralized";

    public IReadOnlyList<PhasePlan> Phases { get; } =
    [
        new(RoundPhase.ClientsTraining, PhaseRunner.Clients, Operations.TrainSlm, [Slots.Slm], [Slots.Updates]),
        new(RoundPhase.Aggregating, PhaseRunner.Aggregator, Operations.FedAvg, [Slots.Updates], [Slots.Slm]),
        new(RoundPhase.SlmBroadcast, PhaseRunner.Broadcast, Operations.BroadcastSlm, [Slots.Slm], []),
        new(RoundPhase.LlmFineTuning, PhaseRunner.Server, Operations.FineTuneLlm, [Slots.Llm], [Slots.Llm]),
        new(RoundPhase.Evaluating, PhaseRunner.Server, Operations.Evaluate, [Slots.Slm, Slots.Llm], []),
    ];
}

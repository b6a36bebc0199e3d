using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Strategies;

/// <summary>FedAvg of the clients' SLM adapters (McMahan et al. 2017) with LoRA: no server model is trained, the LLM stays
/// at its pre-trained state (the job's evaluation usually sets <c>evaluate-llm = false</c>).</summary>
public sealed class FedAvgStrategy : IStrategy
{
    public string Name => "fedavg";

    public IReadOnlyList<PhasePlan> Phases { get; } =
    [
        new(RoundPhase.ClientsTraining, PhaseRunner.Clients, Operations.TrainSlm, [Slots.Slm], [Slots.Updates]),
        new(RoundPhase.Aggregating, PhaseRunner.Aggregator, Operations.FedAvg, [Slots.Updates], [Slots.Slm]),
        new(RoundPhase.SlmBroadcast, PhaseRunner.Broadcast, Operations.BroadcastSlm, [Slots.Slm], []),
        new(RoundPhase.Evaluating, PhaseRunner.Server, Operations.Evaluate, [Slots.Slm, Slots.Llm], []),
    ];
}

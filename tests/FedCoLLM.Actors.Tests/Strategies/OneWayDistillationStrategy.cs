using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;

namespace FedCoLLM.Actors.Tests.Strategies;

/// <summary>
/// A strategy of the tests' own, to show what adding one takes (this file plus one <see cref="StrategyCatalog.Register"/>
/// line): FedCoLLM with only the LLM → SLM direction. The server distils its LLM into the averaged SLM and sends it back;
/// the LLM is never trained.
/// </summary>
public sealed class OneWayDistillationStrategy : IStrategy
{
    public string Name => "one-way-distillation";

    public IReadOnlyList<PhasePlan> Phases { get; } =
    [
        new(RoundPhase.ClientsTraining, PhaseRunner.Clients, Operations.TrainSlm, [Slots.Slm], [Slots.Updates]),
        new(RoundPhase.Aggregating, PhaseRunner.Aggregator, Operations.FedAvg, [Slots.Updates], [Slots.Slm]),
        new(RoundPhase.LlmTeacherLogits, PhaseRunner.Server, Operations.LlmTeacherLogits, [Slots.Llm], [Slots.LlmLogits]),
        new(RoundPhase.SlmDistillation, PhaseRunner.Server, Operations.DistillSlm, [Slots.Slm, Slots.LlmLogits], [Slots.Slm]),
        new(RoundPhase.SlmBroadcast, PhaseRunner.Broadcast, Operations.BroadcastSlm, [Slots.Slm], []),
        new(RoundPhase.Evaluating, PhaseRunner.Server, Operations.Evaluate, [Slots.Slm, Slots.Llm], []),
    ];
}

using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Strategies;

/// <summary>The pre-trained pair, untouched: each round only scores the initial adapters (LoRA B = 0, so the models are
/// the base models). Needs no clients.</summary>
public sealed class ZeroShotStrategy : IStrategy
{
    public string Name => "zeroshot";

    public IReadOnlyList<PhasePlan> Phases { get; } =
        [new(RoundPhase.Evaluating, PhaseRunner.Server, Operations.Evaluate, [Slots.Slm, Slots.Llm], [])];
}

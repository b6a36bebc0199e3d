namespace FedCoLLM.Actors.Strategies;

/// <summary>One client training alone: FedAvg's round with exactly one enrolled client (the average of one update is
/// that update), so the bytes equal a client that never federates. The job file enrols exactly one client.</summary>
public sealed class StandaloneStrategy : IStrategy
{
    public string Name => "standalone";

    public IReadOnlyList<PhasePlan> Phases { get; } = new FedAvgStrategy().Phases;
}

namespace FedCoLLM.Actors.Strategies;

/// <summary>
/// A federated method: the phases of its round, in order, each saying who runs it, what it consumes and what it
/// produces (<see cref="PhasePlan"/>). The round state machine (<c>Rounds/RoundState.cs</c>) drives any plan; a strategy
/// holds no code that runs. Adding one is a new file here plus a line in <see cref="StrategyCatalog"/>.
/// </summary>
public interface IStrategy
{
    /// <summary>The name a job file gives as <c>job.strategy</c>.</summary>
    string Name { get; }
    IReadOnlyList<PhasePlan> Phases { get; }
}

using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Strategies;

/// <summary>Who performs a phase.</summary>
public enum PhaseRunner
{
    /// <summary>Every enrolled client, on its private data; the phase ends when the quorum answered (or all did).</summary>
    Clients,
    /// <summary>An aggregator-role node combines the clients' updates.</summary>
    Aggregator,
    /// <summary>The job's server entity runs the step on its own node.</summary>
    Server,
    /// <summary>The server offers an adapter to every registered client (no computation).</summary>
    Broadcast,
}

/// <summary>
/// One phase of a strategy's round: its name, who runs it, the operation it performs (a name from
/// <see cref="Operations"/>), the slots it reads and the slot it writes. A round starts with the slots
/// <see cref="Slots.Slm"/> and <see cref="Slots.Llm"/> holding the global adapters; the last phase is the
/// server's <see cref="Operations.Evaluate"/>, whose completion commits the round's <c>slm</c> and <c>llm</c>.
/// The plan travels inside the job spec, so every node follows the strategy the job was submitted with.
/// </summary>
public sealed record PhasePlan(RoundPhase Name, PhaseRunner RunBy, string Operation, IReadOnlyList<string> Consumes, IReadOnlyList<string> Produces)
{
    public bool Equals(PhasePlan? other) =>
        other is not null && Name == other.Name && RunBy == other.RunBy && Operation == other.Operation
        && Consumes.SequenceEqual(other.Consumes) && Produces.SequenceEqual(other.Produces);

    public override int GetHashCode() => HashCode.Combine(Name, RunBy, Operation);

    public override string ToString() =>
        $"{Name}: {RunBy} {Operation}({string.Join(", ", Consumes)}) → [{string.Join(", ", Produces)}]";

    /// <summary>Throws naming the phase and the problem when a plan cannot run.</summary>
    public static void Validate(IReadOnlyList<PhasePlan> plan)
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException($"Strategy phases: {message}.", "Phases");
        }
        Require(plan.Count >= 1, "the plan is empty; a round needs at least the server's evaluate phase");
        Require(plan[^1].RunBy == PhaseRunner.Server && plan[^1].Operation == Operations.Evaluate,
            $"the last phase is {plan[^1]}; a round must end with a Server phase running {Operations.Evaluate} (its completion commits the round)");
        Require(plan.Select(p => p.Name).Distinct().Count() == plan.Count, "a phase name appears twice");
        Require(plan.Count(p => p.RunBy == PhaseRunner.Clients) <= 1, "more than one Clients phase; a round collects client updates once");
        var available = new HashSet<string>(StringComparer.Ordinal) { Slots.Slm, Slots.Llm };
        foreach (var phase in plan)
        {
            Require(!string.IsNullOrWhiteSpace(phase.Name.Name) && !RoundPhase.Lifecycle.Contains(phase.Name),
                $"\"{phase.Name}\" is not a usable phase name (empty, or one of {string.Join(", ", RoundPhase.Lifecycle)})");
            Require(Operations.Signatures.TryGetValue(phase.Operation, out var signature),
                $"{phase.Name} runs unknown operation \"{phase.Operation}\"; known: {string.Join(", ", Operations.Signatures.Keys)}");
            Require(signature!.RunBy == phase.RunBy, $"{phase.Name}: {phase.Operation} runs on {signature.RunBy}, not {phase.RunBy}");
            Require(phase.Consumes.Count == signature.Inputs && phase.Produces.Count == signature.Outputs,
                $"{phase.Name}: {phase.Operation} consumes {signature.Inputs} slot(s) and produces {signature.Outputs}, the plan says {phase.Consumes.Count} and {phase.Produces.Count}");
            foreach (var slot in phase.Consumes)
                Require(available.Contains(slot), $"{phase.Name} consumes \"{slot}\", which no earlier phase produces");
            Require(phase.Consumes.Contains(Slots.Updates) == (phase.RunBy == PhaseRunner.Aggregator),
                $"{phase.Name}: only an Aggregator phase consumes \"{Slots.Updates}\", and it must");
            Require(phase.Produces.Contains(Slots.Updates) == (phase.RunBy == PhaseRunner.Clients),
                $"{phase.Name}: only the Clients phase produces \"{Slots.Updates}\"");
            foreach (var slot in phase.Produces) available.Add(slot);
        }
    }
}

/// <summary>The named places a round keeps its blobs in, phase to phase.</summary>
public static class Slots
{
    /// <summary>The SLM adapter (the global one when the round opens; replaced by aggregation and distillation).</summary>
    public const string Slm = "slm";
    /// <summary>The LLM adapter.</summary>
    public const string Llm = "llm";
    /// <summary>The clients' updates of the round, with their sample counts.</summary>
    public const string Updates = "updates";
    public const string LlmLogits = "llm-logits";
    public const string SlmLogits = "slm-logits";
}

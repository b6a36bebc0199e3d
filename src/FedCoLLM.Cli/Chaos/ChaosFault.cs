using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Cli.Chaos;

/// <summary>Which node a chaos trial kills, and when.</summary>
public enum FaultKind
{
    /// <summary>The server node hosting the job entity, at a random moment of a random phase.</summary>
    JobHost,
    /// <summary>The aggregator node, while the round is aggregating (fetching the updates or averaging them).</summary>
    Aggregator,
    /// <summary>A client node in the middle of its local training step.</summary>
    ClientTraining,
    /// <summary>The sending or the receiving node of an adapter transfer, while the chunks flow.</summary>
    Transfer,
    /// <summary>A client node while one of its secure-aggregation steps (advertise, share, mask — which trains — or
    /// unmask) runs or has just been submitted; takes the place of <see cref="ClientTraining"/> in secure jobs.</summary>
    ClientSecAgg,
}

/// <summary>One trial's fault: the kind, the round it strikes in, the phase (job-host faults), which client or which
/// end of a transfer, how long after the trigger line the SIGKILL comes, and (client-secagg) which protocol step
/// (0 advertise … 3 unmask) of the client triggers it.</summary>
public sealed record ChaosFault(FaultKind Kind, int Round, RoundPhase Phase, int ClientIndex, bool KillSender, TimeSpan Delay, int SecAggStep = 0)
{
    /// <summary>The kinds that take turns: in a secure-aggregation job clients train inside the masking step, so the
    /// client kill strikes a protocol step instead of plain training. Same positions, so plain runs replay as before.</summary>
    public static FaultKind[] Kinds(bool secureAggregation) => secureAggregation
        ? [FaultKind.JobHost, FaultKind.Aggregator, FaultKind.ClientSecAgg, FaultKind.Transfer]
        : [FaultKind.JobHost, FaultKind.Aggregator, FaultKind.ClientTraining, FaultKind.Transfer];

    /// <summary>The phases a FedCoLLM round passes through, in order (the follower prints each it sees).</summary>
    public static readonly RoundPhase[] RoundPhases =
    [
        RoundPhase.ClientsTraining, RoundPhase.Aggregating, RoundPhase.LlmTeacherLogits, RoundPhase.SlmDistillation,
        RoundPhase.SlmBroadcast, RoundPhase.SlmTeacherLogits, RoundPhase.LlmDistillation, RoundPhase.Evaluating,
    ];

    /// <summary>Trial <paramref name="trial"/>'s fault. Kinds go round-robin in a seeded order, so every kind is tried
    /// equally often; everything else is drawn from the chaos seed, so a seed replays the same faults.</summary>
    /// <param name="only">Every trial kills this kind (<c>fedcollm bench failover</c>: job-host); the round, phase and delay
    /// are drawn as in a mixed run.</param>
    public static ChaosFault Draw(long seed, int trial, int rounds, int clients, bool secureAggregation = false, FaultKind? only = null)
    {
        var kinds = Kinds(secureAggregation);
        // Random(int) is stable across runs and machines (HashCode.Combine is not: it is salted per process).
        var cycle = new Random(unchecked((int)(seed * 1_000_003 + trial / kinds.Length)));
        var order = kinds.OrderBy(_ => cycle.Next()).ToArray();
        var rng = new Random(unchecked((int)(seed * 7_919 + trial * 104_729 + 17)));
        var kind = only ?? order[trial % kinds.Length];
        var delay = TimeSpan.FromMilliseconds(kind switch
        {
            FaultKind.JobHost => rng.Next(0, 2000),
            FaultKind.Aggregator => rng.Next(0, 800),
            FaultKind.ClientTraining => rng.Next(0, 600), // a quick plan's client step lasts about a second
            FaultKind.ClientSecAgg => rng.Next(0, 300), // steps other than masking take milliseconds: this lands just after the submission
            _ => rng.Next(0, 600),
        });
        var phase = kind == FaultKind.Transfer
            ? (rng.Next(2) == 0 ? RoundPhase.ClientsTraining : RoundPhase.SlmBroadcast) // the phases that move adapters to or from clients
            : RoundPhases[rng.Next(RoundPhases.Length)];
        var fault = new ChaosFault(kind, rng.Next(1, rounds + 1), phase, rng.Next(clients), rng.Next(2) == 0, delay);
        return kind == FaultKind.ClientSecAgg ? fault with { SecAggStep = rng.Next(SecAggOperations.ClientSteps.Length) } : fault;
    }

    public override string ToString() => Kind switch
    {
        FaultKind.JobHost => $"job host in round {Round} {Phase} +{Delay.TotalSeconds:F1}s",
        FaultKind.Aggregator => $"aggregator in round {Round} Aggregating +{Delay.TotalSeconds:F1}s",
        FaultKind.ClientTraining => $"client {ClientIndex + 1} training in round {Round} +{Delay.TotalSeconds:F1}s",
        FaultKind.ClientSecAgg => $"client {ClientIndex + 1} in secure-aggregation step {SecAggOperations.ClientSteps[SecAggStep]} of round {Round} +{Delay.TotalSeconds:F1}s",
        _ => $"{(KillSender ? "sender" : "receiver")} of a transfer in round {Round} {Phase} +{Delay.TotalSeconds:F1}s",
    };
}

using System.Text.Json;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;

namespace FedCoLLM.Actors.Simulation;

/// <summary>The job a simulated federation runs: the FedCoLLM plan over <paramref name="clients"/> generated client ids,
/// every one of them required each round (quorum = K, so a committed round proves each update arrived), deadlines far
/// beyond any round, and a definition that records the simulation's sizes (steps name it by content address).</summary>
public static class SimulatedJob
{
    public static IReadOnlyList<string> ClientIds(int clients) =>
        Enumerable.Range(0, clients).Select(i => $"sim-{i:D5}").ToArray();

    public static JobSpec Spec(string jobId, int clients, int rounds, SimulatedSizes sizes, long seed = 42) => new JobSpec
    {
        JobId = jobId,
        ClientIds = ClientIds(clients),
        Rounds = rounds,
        Seed = seed,
        Strategy = "fedcollm",
        Phases = new FedCoLLMStrategy().Phases,
        MinUpdates = clients,
        ClientTimeout = TimeSpan.FromHours(2),
        AggregationTimeout = TimeSpan.FromHours(1),
        MaxRoundAttempts = 1,
        Definition = JsonSerializer.Serialize(new
        {
            simulation = new { clients, rounds, seed, slm_parameters = sizes.SlmParameters, llm_parameters = sizes.LlmParameters, teacher_logits_bytes = sizes.TeacherLogitsBytes },
        }),
    }.Validate();
}

/// <summary>One committed round of a simulated job, read back from its journal.</summary>
public sealed record RoundTimeline(int Round, DateTimeOffset Opened, DateTimeOffset Committed, long FirstSequenceNr, long LastSequenceNr,
    IReadOnlyList<(long SequenceNr, IRoundEvent Event)> Events)
{
    public double Seconds => (Committed - Opened).TotalSeconds;

    /// <summary>Splits a job's events into its committed rounds: a round opens with the initial adapters or the previous
    /// commit and ends with its own commit.</summary>
    public static IReadOnlyList<RoundTimeline> Of(IReadOnlyList<(long SequenceNr, IRoundEvent Event)> events)
    {
        var rounds = new List<RoundTimeline>();
        DateTimeOffset? opened = null;
        var current = new List<(long, IRoundEvent)>();
        foreach (var (seq, e) in events)
        {
            if (e is AdaptersInitialized) { opened = e.At; current.Clear(); continue; }
            if (opened is null) continue;
            current.Add((seq, e));
            if (e is RoundCommitted c)
            {
                rounds.Add(new RoundTimeline(c.Round, opened.Value, c.At, current[0].Item1, seq, current.ToArray()));
                opened = c.At;
                current.Clear();
            }
        }
        return rounds;
    }

    /// <summary>Null when each enrolled client's update was accepted exactly once in this round (and nothing else was);
    /// else what is wrong.</summary>
    public string? ExactlyOnceProblem(IReadOnlyList<string> clients)
    {
        var accepted = Events.Select(e => e.Event).OfType<ClientUpdateAccepted>().GroupBy(u => u.ClientId).ToDictionary(g => g.Key, g => g.Count());
        if (accepted.FirstOrDefault(kv => kv.Value != 1) is { Key: not null } twice) return $"round {Round}: {twice.Key}'s update was accepted {twice.Value} times";
        if (clients.FirstOrDefault(c => !accepted.ContainsKey(c)) is { } missing) return $"round {Round}: no update of {missing} was accepted";
        if (accepted.Count != clients.Count) return $"round {Round}: {accepted.Count} updates accepted for {clients.Count} clients";
        if (Events.Any(e => e.Event is ClientUpdateRejected or RoundAbandoned or TrainingClosed)) return $"round {Round}: an update was rejected or the deadline closed the round";
        return null;
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Strategies;

namespace FedCoLLM.Actors.Rounds;

/// <summary>
/// What the round state machine needs of a job, fixed when it is submitted and journaled as its first event
/// (<see cref="JobStarted"/>): who takes part, how many rounds, the strategy's phase plan, the quorum and deadlines,
/// and <see cref="Definition"/>, the canonical job (<c>Jobs/JobDefinition.cs</c>: models, data, every training setting)
/// every node computes from. Nodes receive the definition by its content address <see cref="DefinitionRef"/>, so each
/// step names the exact spec it obeys.
/// </summary>
public sealed record JobSpec
{
    public required string JobId { get; init; }
    /// <summary>The enrolled clients, in ordinal order (aggregation order is this order).</summary>
    public required IReadOnlyList<string> ClientIds
    {
        get;
        init => field = value.Order(StringComparer.Ordinal).ToArray();
    }
    public required int Rounds { get; init; }
    public required long Seed { get; init; }
    public string Strategy { get; init; } = "fedcollm";
    public IReadOnlyList<PhasePlan> Phases { get; init; } = new FedCoLLMStrategy().Phases;
    /// <summary>Fewest client updates a round aggregates; below it the round is abandoned and retried.</summary>
    public int MinUpdates { get; init; } = 1;
    /// <summary>How long a round waits for client updates, counted from the moment it opens.</summary>
    public TimeSpan ClientTimeout { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>How long an acknowledged aggregation may take before it is asked for again.</summary>
    public TimeSpan AggregationTimeout { get; init; } = TimeSpan.FromMinutes(5);
    public int MaxRoundAttempts { get; init; } = 3;
    /// <summary>How far a client update may lie from the round's adapter, as a multiple of that adapter's norm
    /// (<c>job.updates.max-norm-ratio</c>); a farther update is refused and the round goes on without it.</summary>
    public double MaxUpdateNormRatio { get; init; } = DefaultMaxUpdateNormRatio;
    public const double DefaultMaxUpdateNormRatio = 10;
    /// <summary>The canonical job definition (UTF-8 JSON text); empty only in tests of the state machine alone.</summary>
    public string Definition { get; init; } = "";

    /// <summary>The definition's content address: the blob every step names and every node fetches.</summary>
    [JsonIgnore]
    public BlobRef DefinitionRef
    {
        get
        {
            var bytes = DefinitionBytes;
            return new BlobRef(Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.Length);
        }
    }

    [JsonIgnore]
    public byte[] DefinitionBytes => Encoding.UTF8.GetBytes(Definition);

    bool HasClientsPhase => Phases.Any(p => p.RunBy == PhaseRunner.Clients);

    public JobSpec Validate()
    {
        static void Require(bool ok, string field, string message)
        {
            if (!ok) throw new ArgumentException($"JobSpec.{field} {message}", field);
        }
        Require(!string.IsNullOrWhiteSpace(JobId) && JobId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'),
            nameof(JobId), $"= \"{JobId}\"; use letters, digits, '-', '_' or '.'.");
        PhasePlan.Validate(Phases);
        Require(ClientIds.Count >= 1 || !HasClientsPhase, nameof(ClientIds), "is empty; the strategy trains on clients, enrol at least one.");
        Require(ClientIds.Distinct(StringComparer.Ordinal).Count() == ClientIds.Count, nameof(ClientIds), $"[{string.Join(", ", ClientIds)}] names a client twice.");
        Require(ClientIds.All(c => !string.IsNullOrWhiteSpace(c)), nameof(ClientIds), "contains an empty id.");
        Require(Rounds >= 1, nameof(Rounds), $"= {Rounds}; it must be at least 1.");
        Require(!HasClientsPhase || (MinUpdates >= 1 && MinUpdates <= ClientIds.Count), nameof(MinUpdates), $"= {MinUpdates}; it must be between 1 and the {ClientIds.Count} clients.");
        Require(ClientTimeout > TimeSpan.Zero, nameof(ClientTimeout), $"= {ClientTimeout}; it must be positive.");
        Require(AggregationTimeout > TimeSpan.Zero, nameof(AggregationTimeout), $"= {AggregationTimeout}; it must be positive.");
        Require(MaxRoundAttempts >= 1, nameof(MaxRoundAttempts), $"= {MaxRoundAttempts}; it must be at least 1.");
        Require(MaxUpdateNormRatio > 0 && double.IsFinite(MaxUpdateNormRatio), nameof(MaxUpdateNormRatio), $"= {MaxUpdateNormRatio}; it must be a positive number.");
        return this;
    }

    /// <summary>The first field in which two specs differ, for a refusal message; null when they agree. A definition is
    /// compared key by key (<see cref="Jobs.JobDefinition.FirstDifference"/>), so the message names the job-file key that changed.</summary>
    public string? FirstDifference(JobSpec other)
    {
        if (JobId != other.JobId) return $"id ({JobId} vs {other.JobId})";
        if (Definition != other.Definition)
            return Definition.Length == 0 || other.Definition.Length == 0
                ? "the job definition (one side has none)"
                : Jobs.CanonicalJson.FirstDifference(DefinitionBytes, other.DefinitionBytes) ?? "the job definition (same keys, different text)";
        if (Strategy != other.Strategy) return $"strategy ({Strategy} vs {other.Strategy})";
        if (!Phases.SequenceEqual(other.Phases)) return $"the strategy's phases ([{string.Join("; ", Phases)}] vs [{string.Join("; ", other.Phases)}])";
        if (!ClientIds.SequenceEqual(other.ClientIds)) return $"clients.enrolled ([{string.Join(", ", ClientIds)}] vs [{string.Join(", ", other.ClientIds)}])";
        if (Rounds != other.Rounds) return $"rounds ({Rounds} vs {other.Rounds})";
        if (Seed != other.Seed) return $"seed ({Seed} vs {other.Seed})";
        if (MinUpdates != other.MinUpdates) return $"clients.quorum ({MinUpdates} vs {other.MinUpdates})";
        if (ClientTimeout != other.ClientTimeout) return $"deadlines.client-training ({ClientTimeout} vs {other.ClientTimeout})";
        if (AggregationTimeout != other.AggregationTimeout) return $"deadlines.aggregation ({AggregationTimeout} vs {other.AggregationTimeout})";
        if (MaxRoundAttempts != other.MaxRoundAttempts) return $"deadlines.max-round-attempts ({MaxRoundAttempts} vs {other.MaxRoundAttempts})";
        if (MaxUpdateNormRatio != other.MaxUpdateNormRatio) return $"updates.max-norm-ratio ({MaxUpdateNormRatio} vs {other.MaxUpdateNormRatio})";
        return null;
    }
}

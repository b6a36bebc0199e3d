namespace FedCoLLM.Actors.Rounds;

/// <summary>What a federation job is, fixed when it starts and persisted in <see cref="JobStarted"/>.
/// <see cref="SettingsDigest"/> fingerprints the training settings, so a resumed run with different settings is refused
/// instead of silently mixing two configurations in one journal.</summary>
public sealed record JobSpec
{
    public required string JobId { get; init; }
    /// <summary>The clients expected in every round, in ordinal order (aggregation order is this order).</summary>
    public required IReadOnlyList<string> ClientIds
    {
        get;
        init => field = value.Order(StringComparer.Ordinal).ToArray();
    }
    public required int Rounds { get; init; }
    public required long Seed { get; init; }
    public IReadOnlyList<RoundPhase> Phases { get; init; } = RoundPlans.FedCoLLM;
    /// <summary>Fewest client updates a round aggregates; below it the round is abandoned and retried.</summary>
    public int MinUpdates { get; init; } = 1;
    /// <summary>How long a round waits for client updates, counted from the moment it opens.</summary>
    public TimeSpan ClientTimeout { get; init; } = TimeSpan.FromMinutes(10);
    public int MaxRoundAttempts { get; init; } = 3;
    public string SettingsDigest { get; init; } = "";

    public JobSpec Validate()
    {
        static void Require(bool ok, string field, string message)
        {
            if (!ok) throw new ArgumentException($"JobSpec.{field} {message}", field);
        }
        Require(!string.IsNullOrWhiteSpace(JobId) && JobId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'),
            nameof(JobId), $"= \"{JobId}\"; use letters, digits, '-', '_' or '.'.");
        Require(ClientIds.Count >= 1, nameof(ClientIds), "is empty; list at least one client.");
        Require(ClientIds.Distinct(StringComparer.Ordinal).Count() == ClientIds.Count, nameof(ClientIds), $"[{string.Join(", ", ClientIds)}] names a client twice.");
        Require(ClientIds.All(c => !string.IsNullOrWhiteSpace(c)), nameof(ClientIds), "contains an empty id.");
        Require(Rounds >= 1, nameof(Rounds), $"= {Rounds}; it must be at least 1.");
        Require(MinUpdates >= 1 && MinUpdates <= ClientIds.Count, nameof(MinUpdates), $"= {MinUpdates}; it must be between 1 and the {ClientIds.Count} clients.");
        Require(ClientTimeout > TimeSpan.Zero, nameof(ClientTimeout), $"= {ClientTimeout}; it must be positive.");
        Require(MaxRoundAttempts >= 1, nameof(MaxRoundAttempts), $"= {MaxRoundAttempts}; it must be at least 1.");
        RoundPlans.Validate(Phases);
        return this;
    }

    /// <summary>The first field in which two specs differ, for a refusal message; null when they agree.</summary>
    public string? FirstDifference(JobSpec other)
    {
        if (JobId != other.JobId) return $"JobId ({JobId} vs {other.JobId})";
        if (!ClientIds.SequenceEqual(other.ClientIds)) return $"ClientIds ([{string.Join(", ", ClientIds)}] vs [{string.Join(", ", other.ClientIds)}])";
        if (Rounds != other.Rounds) return $"Rounds ({Rounds} vs {other.Rounds})";
        if (Seed != other.Seed) return $"Seed ({Seed} vs {other.Seed})";
        if (!Phases.SequenceEqual(other.Phases)) return $"Phases ([{string.Join(", ", Phases)}] vs [{string.Join(", ", other.Phases)}])";
        if (MinUpdates != other.MinUpdates) return $"MinUpdates ({MinUpdates} vs {other.MinUpdates})";
        if (ClientTimeout != other.ClientTimeout) return $"ClientTimeout ({ClientTimeout} vs {other.ClientTimeout})";
        if (MaxRoundAttempts != other.MaxRoundAttempts) return $"MaxRoundAttempts ({MaxRoundAttempts} vs {other.MaxRoundAttempts})";
        if (SettingsDigest != other.SettingsDigest) return $"SettingsDigest ({SettingsDigest} vs {other.SettingsDigest}): the training settings changed";
        return null;
    }
}

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
    /// <summary>Whether the job enrols this client: a binary search of the ordinal order <see cref="ClientIds"/> keeps.</summary>
    public bool Enrols(string clientId)
    {
        int lo = 0, hi = ClientIds.Count - 1;
        while (lo <= hi)
        {
            var mid = lo + (hi - lo) / 2;
            var order = string.CompareOrdinal(ClientIds[mid], clientId);
            if (order == 0) return true;
            if (order < 0) lo = mid + 1;
            else hi = mid - 1;
        }
        return false;
    }

    /// <summary>Each enrolled client's Ed25519 public key (<see cref="Identity.ClientPublicKey"/>), from the job file's
    /// <c>clients.public-keys</c>; null when the job enrols none (then updates are accepted unsigned). Left out of the
    /// journaled JSON when null, so jobs without keys are journaled as before.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? ClientKeys
    {
        get;
        init => field = value is { Count: > 0 } ? value : null;
    }

    /// <summary>Whether updates must carry a signature by the enrolled key of the client they name.</summary>
    [JsonIgnore]
    public bool RequiresSignatures => ClientKeys is not null;

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
    /// <summary>Secure aggregation of the clients' updates (<see cref="SecureAggregationSpec"/>); null (the default) aggregates in the clear.</summary>
    public SecureAggregationSpec? SecureAggregation { get; init; }
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
        if (ClientKeys is { } keys)
        {
            Require(ClientIds.All(keys.ContainsKey) && keys.Count == ClientIds.Count, nameof(ClientKeys),
                $"enrols keys for [{string.Join(", ", keys.Keys.Order(StringComparer.Ordinal))}] but the clients are [{string.Join(", ", ClientIds)}]; enrol one key per client.");
            foreach (var (id, key) in keys)
                Require(Identity.ClientPublicKey.Problem(key) is null, nameof(ClientKeys), $"[{id}] = \"{key}\" {Identity.ClientPublicKey.Problem(key)}.");
        }
        Require(Rounds >= 1, nameof(Rounds), $"= {Rounds}; it must be at least 1.");
        Require(!HasClientsPhase || (MinUpdates >= 1 && MinUpdates <= ClientIds.Count), nameof(MinUpdates), $"= {MinUpdates}; it must be between 1 and the {ClientIds.Count} clients.");
        Require(ClientTimeout > TimeSpan.Zero, nameof(ClientTimeout), $"= {ClientTimeout}; it must be positive.");
        Require(AggregationTimeout > TimeSpan.Zero, nameof(AggregationTimeout), $"= {AggregationTimeout}; it must be positive.");
        Require(MaxRoundAttempts >= 1, nameof(MaxRoundAttempts), $"= {MaxRoundAttempts}; it must be at least 1.");
        if (SecureAggregation is { } secure)
        {
            Require(HasClientsPhase && Phases.Any(p => p.RunBy == PhaseRunner.Aggregator && p.Operation == Operations.FedAvg), nameof(SecureAggregation),
                $"is on, but strategy {Strategy} does not average client updates; secure aggregation needs a strategy with a Clients phase and FedAvg (fedavg, fedcollm).");
            Require(ClientIds.Count >= 2, nameof(SecureAggregation), $"is on with {ClientIds.Count} client; the sum of one client's update is that update, enrol at least 2.");
            Require(secure.MaxDropouts >= 0 && 2 * secure.MaxDropouts < ClientIds.Count, nameof(SecureAggregation),
                $".MaxDropouts = {secure.MaxDropouts}; with {ClientIds.Count} clients it must lie in [0, {(ClientIds.Count - 1) / 2}] (the threshold K − t must exceed K/2).");
            Require(secure.StepTimeout > TimeSpan.Zero, nameof(SecureAggregation), $".StepTimeout = {secure.StepTimeout}; it must be positive.");
            try { _ = new FedCoLLM.Learning.SecureAggregation.FixedPoint(secure.Clip, secure.MaxSamplesPerClient, ClientIds.Count); }
            catch (ArgumentException e) { Require(false, nameof(SecureAggregation), $": {e.Message}"); }
        }
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
        if (!SameKeys(ClientKeys, other.ClientKeys)) return "clients.public-keys";
        if (Rounds != other.Rounds) return $"rounds ({Rounds} vs {other.Rounds})";
        if (Seed != other.Seed) return $"seed ({Seed} vs {other.Seed})";
        if (MinUpdates != other.MinUpdates) return $"clients.quorum ({MinUpdates} vs {other.MinUpdates})";
        if (ClientTimeout != other.ClientTimeout) return $"deadlines.client-training ({ClientTimeout} vs {other.ClientTimeout})";
        if (AggregationTimeout != other.AggregationTimeout) return $"deadlines.aggregation ({AggregationTimeout} vs {other.AggregationTimeout})";
        if (SecureAggregation != other.SecureAggregation) return $"secure-aggregation ({SecureAggregation?.ToString() ?? "off"} vs {other.SecureAggregation?.ToString() ?? "off"})";
        if (MaxRoundAttempts != other.MaxRoundAttempts) return $"deadlines.max-round-attempts ({MaxRoundAttempts} vs {other.MaxRoundAttempts})";
        if (MaxUpdateNormRatio != other.MaxUpdateNormRatio) return $"updates.max-norm-ratio ({MaxUpdateNormRatio} vs {other.MaxUpdateNormRatio})";
        return null;
    }

    static bool SameKeys(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a is null || a.All(kv => b!.TryGetValue(kv.Key, out var v) && v == kv.Value));
}

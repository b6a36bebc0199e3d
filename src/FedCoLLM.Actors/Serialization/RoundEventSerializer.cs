using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Server;

namespace FedCoLLM.Actors.Serialization;

/// <summary>
/// Persisted events and snapshots as JSON under versioned string manifests. The manifest, not the CLR type
/// name, identifies a record in the journal, so types can be renamed and an old journal stays readable; a
/// breaking change adds "…/v2" and keeps reading "…/v1". Enums are written by name, never by number.
/// </summary>
public sealed class RoundEventSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 271;

    static readonly IReadOnlyDictionary<Type, string> Manifests = new Dictionary<Type, string>
    {
        [typeof(JobStarted)] = "job-started/v2",
        [typeof(AdaptersInitialized)] = "adapters-initialized/v1",
        [typeof(ClientUpdateAccepted)] = "client-update-accepted/v1",
        [typeof(TrainingClosed)] = "training-closed/v1",
        [typeof(ClientUpdateRejected)] = "client-update-rejected/v1",
        [typeof(RoundAbandoned)] = "round-abandoned/v1",
        [typeof(PhaseCompleted)] = "phase-completed/v1",
        [typeof(SlmBroadcast)] = "slm-broadcast/v1",
        [typeof(RoundCommitted)] = "round-committed/v1",
        [typeof(JobFailed)] = "job-failed/v1",
        [typeof(JobCancelled)] = "job-cancelled/v1",
        [typeof(SecAggMessageAccepted)] = "secagg-message-accepted/v1",
        [typeof(SecAggStepClosed)] = "secagg-step-closed/v1",
        [typeof(SecAggStepComputed)] = "secagg-step-computed/v1",
        [typeof(ClientDownloaded)] = "client-downloaded/v1",
        [typeof(RoundState)] = "round-state/v2",
        [typeof(DirectoryJobListed)] = "directory-job-listed/v1",
        [typeof(DirectoryJobEnded)] = "directory-job-ended/v1",
    };

    static readonly IReadOnlyDictionary<string, Type> Types = Manifests.ToDictionary(kv => kv.Value, kv => kv.Key);

    public static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        RespectRequiredConstructorParameters = true,
    };

    public static IEnumerable<Type> SerializedTypes => Manifests.Keys;

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var m) ? m
            : throw new ArgumentException($"{o.GetType().FullName} has no journal manifest; add it to {nameof(RoundEventSerializer)}.{nameof(Manifests)}.");

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);

    public override object FromBinary(byte[] bytes, string manifest) => Read(bytes, manifest);

    /// <summary>Reads one journal record without an actor system (journal audits read the SQL tables directly).</summary>
    public static object Read(byte[] bytes, string manifest)
    {
        // SerializationException tells Akka the record is unreadable by this version, not a transient fault.
        if (manifest is "job-started/v1" or "round-state/v1")
            throw new SerializationException($"Journal record \"{manifest}\" was written before jobs had job files (its job carries a settings digest, not a job definition); it cannot be resumed. Start the job again under a new --out directory or job id.");
        if (!Types.TryGetValue(manifest, out var type))
            throw new SerializationException($"Unknown journal manifest \"{manifest}\": the journal was written by a newer FedCoLLM.Actors; upgrade to read it.");
        try
        {
            return JsonSerializer.Deserialize(bytes, type, Json)
                   ?? throw new SerializationException($"Journal record \"{manifest}\" is JSON null.");
        }
        catch (JsonException e)
        {
            throw new SerializationException($"Journal record \"{manifest}\" is malformed at {e.Path}: {e.Message}", e);
        }
    }
}

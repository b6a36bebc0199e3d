using System.Collections.Immutable;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Learning.SecureAggregation;

namespace FedCoLLM.Actors.Rounds;

/// <summary>
/// A job's secure-aggregation settings (job file: <c>secure-aggregation { … }</c>, docs/jobs.md). With them the
/// clients phase of a round runs the four steps of Bonawitz et al. (2017) instead of collecting adapters, and the
/// aggregator receives only masked vectors and the shares that cancel their masks: server and aggregator learn
/// Σ n_k·Δ_k and Σ n_k, never one client's adapter.
/// </summary>
/// <param name="MaxDropouts">t: clients that may drop out anywhere in the protocol; secrets are shared with threshold K − t.</param>
/// <param name="Clip">The largest |Δ| (adapter minus the round's starting adapter) a coordinate keeps.</param>
/// <param name="MaxSamplesPerClient">The largest n_k; with the clip and K it fixes the fixed-point scale.</param>
/// <param name="StepTimeout">How long each protocol step waits for the clients, except the masking step, which trains
/// first and waits the client-training deadline.</param>
public sealed record SecureAggregationSpec(int MaxDropouts, double Clip, long MaxSamplesPerClient, TimeSpan StepTimeout)
{
    public SecAggSettings Settings => new(MaxDropouts, Clip, MaxSamplesPerClient);
    public int Threshold(int clients) => clients - MaxDropouts;
}

/// <summary>What a secure-aggregation step request carries besides its input blobs: the attempt and step (both
/// bind the keys), the enrolled ids (client numbers) and the job's settings, and which clients' messages the inputs
/// hold, in order. Layouts are in <see cref="SecAggOperations"/>.</summary>
public sealed record SecAggStepSpec(int Attempt, int Step, IReadOnlyList<string> Enrolled, SecureAggregationSpec Job,
    IReadOnlyList<string> Senders, IReadOnlyList<string> Responders);

/// <summary>The step operations of secure aggregation. Every one takes the round's starting SLM adapter as input 0
/// (it fixes the vector length, and the masking step trains from it).</summary>
public static class SecAggOperations
{
    /// <summary>Client, step 0. In: [slm]. Out: its key advertisement.</summary>
    public const string Advertise = "secagg-advertise";
    /// <summary>Client, step 1. In: [slm, roster]. Out: its encrypted share bundle.</summary>
    public const string Share = "secagg-share";
    /// <summary>Client, step 2: fine-tunes the SLM adapter like train-slm, then encodes and masks n_k·Δ_k.
    /// In: [slm, roster, forwarded shares]. Out: its masked input.</summary>
    public const string Mask = "secagg-mask";
    /// <summary>Client, step 3. In: [slm, roster, forwarded shares, unmask request]. Out: its unmask response.</summary>
    public const string Unmask = "secagg-unmask";
    /// <summary>Server, closes step 0. In: [slm, adverts of Senders…]. Out: [roster].</summary>
    public const string Keys = "secagg-keys";
    /// <summary>Server, closes step 1. In: [slm, roster, bundles of Senders…]. Out: forwarded shares, one per sender.</summary>
    public const string Route = "secagg-route";
    /// <summary>Server, closes step 2. In: [slm, roster, bundles of Senders…, masked inputs of Responders…]. Out: [request].</summary>
    public const string Request = "secagg-request";
    /// <summary>Aggregator. In: [slm, roster, request, masked inputs of Senders…, responses of Responders…]. Out: [slm].</summary>
    public const string FedAvg = "secagg-fedavg";

    public static bool IsClientStep(string operation) => operation is Advertise or Share or Mask or Unmask;

    public static readonly string[] ClientSteps = [Advertise, Share, Mask, Unmask];
    internal static readonly string[] ServerSteps = [Keys, Route, Request];

    public static string StepName(int step) => SecureAggregationException.StepName((SecAggStep)step);
}

// ---- commands and events ----------------------------------------------------------------------

/// <summary>A client's message for one protocol step (its bytes are already in the server's store).</summary>
public sealed record SubmitSecAggMessage(int Round, int Attempt, int Step, string ClientId, BlobRef Message, TransferCount? Upload = null) : IRoundCommand;

/// <summary>The deadline of a protocol step passed.</summary>
public sealed record CloseSecAggStep(int Round, int Attempt, int Step) : IRoundCommand;

public sealed record SecAggMessageAccepted(int Round, int Attempt, int Step, string ClientId, BlobRef Message, DateTimeOffset At,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] TransferCount? Upload = null) : IRoundEvent;

/// <summary>The step's deadline passed with at least the threshold of messages; the rest of the step's clients dropped.</summary>
public sealed record SecAggStepClosed(int Round, int Attempt, int Step, IReadOnlyList<string> Dropped, DateTimeOffset At) : IRoundEvent;

/// <summary>The server's part of a step is done: the roster (step 0), the shares forwarded to each sender (step 1, in
/// sender order) or the unmask request (step 2). The next step opens.</summary>
public sealed record SecAggStepComputed(int Round, int Attempt, int Step, IReadOnlyList<BlobRef> Outputs, DateTimeOffset At) : IRoundEvent;

// ---- the round's protocol state ---------------------------------------------------------------

/// <summary>
/// Where the current round's secure aggregation stands: the step being collected (0…3), whether its messages are all
/// in and the server's part runs, who is expected, and every message and server output so far, by content address.
/// Part of <see cref="RoundState"/>, so it is rebuilt by replaying the journal like the rest.
/// </summary>
public sealed record SecAggRound
{
    public int Step { get; init; }
    public bool Computing { get; init; }
    public ImmutableList<string> Expected { get; init; } = [];
    public DateTimeOffset Deadline { get; init; }
    public ImmutableDictionary<string, BlobRef> Adverts { get; init; } = ImmutableDictionary<string, BlobRef>.Empty;
    public ImmutableDictionary<string, BlobRef> Bundles { get; init; } = ImmutableDictionary<string, BlobRef>.Empty;
    public ImmutableDictionary<string, BlobRef> Masked { get; init; } = ImmutableDictionary<string, BlobRef>.Empty;
    public ImmutableDictionary<string, BlobRef> Responses { get; init; } = ImmutableDictionary<string, BlobRef>.Empty;
    public BlobRef? Roster { get; init; }
    public ImmutableDictionary<string, BlobRef> Forwarded { get; init; } = ImmutableDictionary<string, BlobRef>.Empty;
    public BlobRef? Request { get; init; }

    public static SecAggRound Open(IReadOnlyList<string> clients, DateTimeOffset deadline) => new() { Expected = [.. clients], Deadline = deadline };

    public ImmutableDictionary<string, BlobRef> MessagesOf(int step) => step switch
    {
        0 => Adverts,
        1 => Bundles,
        2 => Masked,
        3 => Responses,
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, "Secure aggregation has steps 0…3."),
    };

    public static IReadOnlyList<string> Ordered(IEnumerable<string> ids) => ids.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Clients of the open step that have not sent their message yet. O(K): listed once per step (to task
    /// them); per message the job entity asks <see cref="IsWaitingFor"/> and <see cref="WaitingCount"/>.</summary>
    public IReadOnlyList<string> Waiting => Computing ? [] : Expected.Where(c => !MessagesOf(Step).ContainsKey(c)).ToArray();

    /// <summary>Whether the open step still waits for this client's message, in O(log K).</summary>
    public bool IsWaitingFor(string clientId) => !Computing && !MessagesOf(Step).ContainsKey(clientId) && Expects(clientId);

    /// <summary>How many messages the open step still waits for: a step accepts messages only from expected clients.</summary>
    public int WaitingCount => Computing ? 0 : Expected.Count - MessagesOf(Step).Count;

    /// <summary>Whether the open step expects this client: <see cref="Expected"/> is in ordinal order (the job's clients,
    /// then each step's senders, <see cref="Ordered"/>), so a binary search.</summary>
    public bool Expects(string clientId) => Expected.BinarySearch(clientId, StringComparer.Ordinal) >= 0;

    internal SecAggRound With(int step, string client, BlobRef message) => step switch
    {
        0 => this with { Adverts = Adverts.SetItem(client, message) },
        1 => this with { Bundles = Bundles.SetItem(client, message) },
        2 => this with { Masked = Masked.SetItem(client, message) },
        _ => this with { Responses = Responses.SetItem(client, message) },
    };
}

/// <summary>Work the round calls for while it collects a protocol step: send each waiting client its task, and close
/// the step at the deadline.</summary>
public sealed record CollectSecAgg(int Round, int Attempt, int Step, IReadOnlyList<string> Waiting, DateTimeOffset Deadline) : RoundWork;

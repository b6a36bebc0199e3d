using System.Text.Json.Serialization;
using FedCoLLM.Actors.Blobs;

namespace FedCoLLM.Actors.Rounds;

/// <summary>A persisted fact about a federation job: one per state transition. Events carry ids, content
/// addresses and numbers, never tensors or actor refs. <see cref="At"/> is when it was decided; deadlines
/// derive from it, so replaying the journal yields the same absolute deadlines.</summary>
public interface IRoundEvent
{
    DateTimeOffset At { get; }
}

public sealed record JobStarted(JobSpec Spec, DateTimeOffset At) : IRoundEvent;

/// <summary>The seeded initial LoRA adapters exist (B = 0, so the models equal the pre-trained ones; <paramref name="Baseline"/>
/// holds their zero-shot scores, the "round 0" of the results); round 1 opens.</summary>
public sealed record AdaptersInitialized(BlobRef Slm, BlobRef Llm, DateTimeOffset At, IReadOnlyDictionary<string, double>? Baseline = null) : IRoundEvent;

/// <summary>An update the round took. <paramref name="Attempt"/> is the round attempt it was accepted in and <paramref name="Signature"/> the
/// client's signature of <see cref="Identity.UpdateStatement"/> (null when the job enrols no keys), journaled so that
/// <c>fedcollm audit</c> can verify the ledger offline. <paramref name="Upload"/> is what the server's fetch of the update
/// measured (<see cref="TransferTally"/>). All three are left out of the JSON when null (events of older journals).</summary>
public sealed record ClientUpdateAccepted(int Round, string ClientId, BlobRef Update, long SampleCount, double TrainLoss, DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Attempt = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Signature = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TransferCount? Upload = null) : IRoundEvent;

/// <summary>A client's update was refused by the screen (malformed, wrong layout, non-finite, too large or too far from the
/// round's adapter): that client sits the round out and the round goes on with the others. <paramref name="Upload"/>: the bytes
/// fetched before the screen refused them (null when refused before any fetch, and in older journals).</summary>
public sealed record ClientUpdateRejected(int Round, string ClientId, BlobRef Update, string Fault, string Reason, DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TransferCount? Upload = null) : IRoundEvent;

/// <summary>The client deadline passed with a quorum of updates; the missing clients sit this round out.</summary>
public sealed record TrainingClosed(int Round, IReadOnlyList<string> Missing, DateTimeOffset At) : IRoundEvent;

/// <summary>The deadline passed below the quorum; the round reopens from its start as attempt + 1.</summary>
public sealed record RoundAbandoned(int Round, int Attempt, string Reason, DateTimeOffset At) : IRoundEvent;

/// <summary>A server or aggregator phase produced its output (null for a phase that produces none), which the strategy's
/// plan puts into the slot it names.</summary>
public sealed record PhaseCompleted(int Round, RoundPhase Phase, BlobRef? Output, IReadOnlyDictionary<string, double> Metrics, DateTimeOffset At) : IRoundEvent;

/// <summary>The distilled SLM adapter was offered to these clients (delivery is also implied by the next round's task).</summary>
public sealed record SlmBroadcast(int Round, BlobRef Slm, IReadOnlyList<string> Recipients, DateTimeOffset At) : IRoundEvent;

/// <summary>Evaluation finished: the round's SLM and LLM adapters become the global ones.</summary>
public sealed record RoundCommitted(int Round, BlobRef Slm, BlobRef Llm, IReadOnlyDictionary<string, double> Metrics, DateTimeOffset At) : IRoundEvent;

/// <summary>A client measured what it fetched from the server (<see cref="ClientTransfer.What"/> names it: the round's starting
/// adapter, the job definition, the broadcast distilled adapter, a secure-aggregation step's inputs) and reported it. Recorded in
/// any phase, also after the job ended: the final broadcast's download may finish after the last commit.</summary>
public sealed record ClientDownloaded(int Round, string ClientId, string What, BlobRef Blob, TransferCount Count, DateTimeOffset At) : IRoundEvent;

public sealed record JobFailed(string Reason, DateTimeOffset At) : IRoundEvent;

/// <summary>Cancelled by a user: no step runs after it and the job never resumes.</summary>
public sealed record JobCancelled(string Reason, DateTimeOffset At) : IRoundEvent;

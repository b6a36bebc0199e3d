using Akka.Actor;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Protocol;

/// <summary>A message for one federation job's ServerActor; the shard region routes by <see cref="JobId"/>.</summary>
public interface IJobMessage : IWireMessage
{
    string JobId { get; }
}

// ---- host → server ----------------------------------------------------------------------------

/// <summary>Starts the job, or resumes it when the journal already holds the same spec. Reply: <see cref="JobAccepted"/>.</summary>
public sealed record StartFederation(string JobId, JobSpec Spec) : IJobMessage;

public sealed record JobAccepted(string JobId, Outcome Outcome, string? Detail) : IWireMessage;

/// <summary>Cancels the job: journaled, running steps stop, and it never resumes. Reply: <see cref="JobAccepted"/>
/// (Accepted, or Duplicate when it had already ended).</summary>
public sealed record CancelFederation(string JobId, string Reason) : IJobMessage;

/// <summary>Reply: <see cref="JobStatus"/>.</summary>
public sealed record GetJobStatus(string JobId) : IJobMessage;

/// <summary>The persisted state plus what is happening right now (not persisted).</summary>
public sealed record JobStatus(string JobId, RoundState State, IReadOnlyList<LiveProgress> Live) : IWireMessage;

/// <summary>Training progress of a running step: a client's fine-tuning or a server phase.</summary>
public sealed record LiveProgress(string Worker, int Round, RoundPhase Phase, int Step, int TotalSteps, double Loss) : IWireMessage;

// ---- client ↔ server --------------------------------------------------------------------------

/// <summary>Sent on start and as a heartbeat, so a client finds the job again after the server entity moves. Reply: <see cref="ClientRegistered"/>.</summary>
public sealed record RegisterClient(string JobId, string ClientId, IActorRef Client) : IJobMessage;

/// <summary><paramref name="Heartbeat"/>: how often the job wants this client's heartbeat, paced by the job's size so that
/// its entity hears at most <see cref="Hosting.ProtocolTimeouts.HeartbeatsPerSecond"/> a second (never more often
/// than the client's own <c>client-heartbeat</c>).</summary>
public sealed record ClientRegistered(string JobId, string ClientId, TimeSpan Heartbeat) : IWireMessage;

/// <summary>Train round <paramref name="Round"/> from <paramref name="GlobalSlm"/> under the job definition <paramref name="Spec"/>,
/// both fetched from the blob server at <paramref name="Holder"/>.</summary>
public sealed record TrainRound(string JobId, int Round, int Attempt, BlobRef GlobalSlm, long Seed, string Holder, BlobRef? Spec = null) : IWireMessage;

/// <summary>The job ended (completed, failed or cancelled): a client stops working for it.</summary>
public sealed record JobEnded(string JobId, RoundPhase Phase) : IWireMessage;

/// <summary>A client's update; resent until acknowledged. Reply: <see cref="UpdateAcknowledged"/>. <paramref name="Signature"/> is the
/// client's Ed25519 signature (base64) of <see cref="Identity.UpdateStatement"/> over job, round, <paramref name="Attempt"/>,
/// client id, adapter and n_k; a job that enrols client keys refuses an update without a valid one.</summary>
public sealed record SubmitClientUpdate(string JobId, int Round, string ClientId, BlobRef Update, long SampleCount, double TrainLoss, string Holder,
    int Attempt = 1, string? Signature = null) : IJobMessage;

/// <summary>Duplicate and late updates are acknowledged too, so the client stops resending; Rejected carries the reason.</summary>
public sealed record UpdateAcknowledged(string JobId, int Round, string ClientId, Outcome Outcome, string? Detail) : IWireMessage;

public sealed record ReportProgress(string JobId, LiveProgress Progress) : IJobMessage;

/// <summary>What a client measured fetching <paramref name="Blob"/> from the server (<see cref="ClientTransfer.What"/>: which
/// input of which round); resent until acknowledged. Reply: <see cref="DownloadAcknowledged"/>. Journaled as
/// <see cref="ClientDownloaded"/> for the job's communication report.</summary>
public sealed record ReportDownload(string JobId, int Round, string ClientId, string What, BlobRef Blob, TransferCount Count) : IJobMessage;

public sealed record DownloadAcknowledged(string JobId, int Round, string ClientId, string What, BlobRef Blob, Outcome Outcome, string? Detail) : IWireMessage;

/// <summary>The distilled SLM adapter of a round; clients prefetch it into their store. <paramref name="Final"/>: the job's
/// last round, whose adapter is the final download every client reports, even when it moved nothing.</summary>
public sealed record GlobalSlmReady(string JobId, int Round, BlobRef Slm, string Holder, bool Final) : IWireMessage;

// ---- server ↔ aggregator ----------------------------------------------------------------------

/// <summary>FedAvg of the request's inputs (fetched from <paramref name="Holder"/>). Replies: <see cref="AggregationStarted"/> at once,
/// then <see cref="Aggregated"/> or <see cref="AggregationFailed"/>.</summary>
public sealed record AggregateUpdates(string JobId, StepRequest Request, string Holder) : IJobMessage;

/// <summary>The aggregator entity took the request. The server watches the sender from then on: if its node dies the
/// request is sent again at once (a message sent to a dead node is otherwise only noticed when a timeout fires).</summary>
public sealed record AggregationStarted(string JobId, StepRequest Request) : IWireMessage;

public sealed record Aggregated(string JobId, StepRequest Request, StepResult Result, string Holder) : IWireMessage;

public sealed record AggregationFailed(string JobId, StepRequest Request, string Error) : IWireMessage;

// ---- secure aggregation (server ↔ client) -------------------------------------------------------

/// <summary>Run this secure-aggregation step (<see cref="SecAggOperations"/>): fetch the request's inputs from the blob
/// server at <paramref name="Holder"/>, run it, answer with <see cref="SubmitSecAggStep"/>. Resent with the heartbeat
/// until the client's message is in.</summary>
public sealed record SecAggTask(string JobId, StepRequest Request, string Holder) : IWireMessage;

/// <summary>A client's message for one protocol step, by content address (served from <paramref name="Holder"/>);
/// resent until acknowledged. Reply: <see cref="SecAggAcknowledged"/>.</summary>
public sealed record SubmitSecAggStep(string JobId, int Round, int Attempt, int Step, string ClientId, BlobRef Message, string Holder) : IJobMessage;

public sealed record SecAggAcknowledged(string JobId, int Round, int Attempt, int Step, string ClientId, Outcome Outcome, string? Detail) : IWireMessage;

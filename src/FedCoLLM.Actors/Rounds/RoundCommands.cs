using FedCoLLM.Actors.Blobs;

namespace FedCoLLM.Actors.Rounds;

/// <summary>An input to <see cref="RoundState.Decide"/>.</summary>
public interface IRoundCommand { }

public sealed record StartJob(JobSpec Spec) : IRoundCommand;

/// <summary>A client's fine-tuned SLM adapter for a round (its bytes are already in the server's store). <paramref name="Signature"/>
/// is the client's Ed25519 signature of <see cref="Identity.UpdateStatement"/> (base64), required when the job enrols keys.</summary>
public sealed record SubmitUpdate(int Round, string ClientId, BlobRef Update, long SampleCount, double TrainLoss, int Attempt = 1, string? Signature = null) : IRoundCommand
{
    /// <summary>What the server's fetch of the update measured; null when it was not fetched for this decision (a resend).</summary>
    public TransferCount? Upload { get; init; }
}

/// <summary>A client's update failed the screen (<c>Learning/Federation/UpdateScreen</c>): <paramref name="Fault"/> says which check.</summary>
public sealed record RejectUpdate(int Round, string ClientId, BlobRef Update, string Fault, string Reason, TransferCount? Upload = null) : IRoundCommand;

/// <summary>A client's report of what it fetched from the server (<see cref="Protocol.ReportDownload"/>).</summary>
public sealed record RecordDownload(int Round, string ClientId, string What, BlobRef Blob, TransferCount Count) : IRoundCommand;

/// <summary>The client deadline of the open round passed.</summary>
public sealed record CloseTraining(int Round, int Attempt) : IRoundCommand;

/// <summary>A server-side step of <paramref name="Phase"/> finished.</summary>
public sealed record CompleteStep(int Round, RoundPhase Phase, StepResult Result) : IRoundCommand;

public sealed record RecordBroadcast(int Round, IReadOnlyList<string> Recipients) : IRoundCommand;

/// <summary>A step failed beyond its retries; the job stops with this reason.</summary>
public sealed record FailJob(string Reason) : IRoundCommand;

/// <summary>A user cancels the job; running steps stop and it never resumes.</summary>
public sealed record CancelJob(string Reason) : IRoundCommand;

public enum Outcome
{
    /// <summary>Events follow; the command changed the job.</summary>
    Accepted,
    /// <summary>Already applied (a resend); acknowledge again, change nothing.</summary>
    Duplicate,
    /// <summary>For a round or phase that is over; acknowledge so the sender stops, change nothing.</summary>
    Late,
    /// <summary>Invalid (unknown client, other spec, job not running): the detail says why.</summary>
    Rejected,
}

public sealed record RoundDecision(IReadOnlyList<IRoundEvent> Events, Outcome Outcome, string? Detail = null)
{
    public static RoundDecision Of(IRoundEvent e) => new([e], Outcome.Accepted);
    public static RoundDecision Duplicate(string detail) => new([], Outcome.Duplicate, detail);
    public static RoundDecision Late(string detail) => new([], Outcome.Late, detail);
    public static RoundDecision Rejected(string detail) => new([], Outcome.Rejected, detail);
}

namespace FedCoLLM.Web.Status;

// The JSON the status page reads (/api/jobs, /api/jobs/{id}). Plain records shaped for the page, so the browser does no
// protocol decoding and a script reads the same fields. Non-finite numbers are null: JSON has no NaN.

/// <summary>This node and the jobs of its cluster, in submission order.</summary>
public sealed record JobListView(NodeView Node, IReadOnlyList<JobSummaryView> Jobs, DateTimeOffset AsOf);

public sealed record NodeView(string Address, IReadOnlyList<string> Roles, int Members);

/// <summary>One row of the job list. <see cref="Answered"/> is false when the job's entity did not answer in time (it may
/// be moving to another node); the directory's fields are still right.</summary>
public sealed record JobSummaryView(
    string Id, string? Strategy, string State, int Round, int? RoundsPlanned, int Committed,
    IReadOnlyList<string> Clients, DateTimeOffset Submitted, string? EndedIn, string? Failure, bool Answered);

/// <summary>Everything the page shows about one job.</summary>
public sealed record JobDetailView(
    string Id, string Strategy, string State, int Round, int RoundsPlanned, int Attempt, long Seed, string SpecSha256,
    int Quorum, DateTimeOffset? ClientDeadline, string? Failure,
    IReadOnlyList<PhaseView> Phases, IReadOnlyList<LiveView> Live, IReadOnlyList<ClientView> Clients,
    IReadOnlyList<string> EvaluationSets, IReadOnlyList<RoundView> History, IReadOnlyList<SeriesView> Accuracy,
    IReadOnlyList<SeriesView> Loss, DateTimeOffset Submitted, DateTimeOffset AsOf);

/// <summary>A phase of the strategy's round plan and where the job stands in it: done, current or pending.</summary>
public sealed record PhaseView(string Name, string RunBy, string Status);

/// <summary>A worker's progress in the current phase (a client's fine-tuning, or the server's step). A step reports one
/// number: the training loss, or while models are scored (initializing, evaluating) the accuracy of the last set;
/// <see cref="Measure"/> says which ("loss" or "accuracy").</summary>
public sealed record LiveView(string Worker, int Round, string Phase, int Step, int TotalSteps, double? Value, string Measure);

/// <summary>An enrolled client: what it is doing in the current round and its most recent accepted update.
/// <see cref="SampleCount"/> is known only for an update of the open round (a committed round keeps participants and
/// losses, not counts); <see cref="LastCommittedAt"/> is when the round holding the last update committed.</summary>
public sealed record ClientView(
    string Id, string Status, int? LastRound, double? LastTrainLoss, long? SampleCount, DateTimeOffset? LastCommittedAt, LiveView? Progress);

/// <summary>A committed round: who took part, the mean accuracies over the job's evaluation sets, the losses, and the
/// adapters it committed. <see cref="Accuracy"/> is keyed "slm/SET" and "llm/SET".</summary>
public sealed record RoundView(
    int Round, int Attempt, IReadOnlyList<string> Participants, IReadOnlyList<string> Missing,
    double? SlmAccuracy, double? LlmAccuracy, IReadOnlyDictionary<string, double?> Accuracy, IReadOnlyDictionary<string, double?> Losses,
    string SlmSha256, string LlmSha256, DateTimeOffset CommittedAt);

/// <summary>One line of a plot: a value per round (round 0 = the pre-trained models).</summary>
public sealed record SeriesView(string Name, IReadOnlyList<PointView> Points);

public sealed record PointView(int Round, double Value);

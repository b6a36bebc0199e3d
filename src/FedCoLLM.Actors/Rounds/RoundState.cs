using System.Collections.Immutable;
using System.Text.Json.Serialization;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Strategies;

namespace FedCoLLM.Actors.Rounds;

public sealed record AcceptedUpdate(BlobRef Update, long SampleCount, double TrainLoss);

public sealed record CommittedRound(
    int Round, int Attempt, IReadOnlyList<string> Participants, IReadOnlyList<string> Missing,
    BlobRef Slm, BlobRef Llm, IReadOnlyDictionary<string, double> Metrics, DateTimeOffset At);

/// <summary>
/// The federation job's round state machine as an immutable value: <see cref="Decide"/> turns a command
/// into events (or a refusal), <see cref="Apply"/> folds one event in. Both are pure, so the ServerActor
/// is a thin persistence shell and tests drive every transition without an ActorSystem.
/// </summary>
public sealed partial record RoundState
{
    public static RoundState Empty { get; } = new();

    public JobSpec? Job { get; init; }
    public RoundPhase Phase { get; init; } = RoundPhase.NotStarted;
    public int Round { get; init; }
    public int Attempt { get; init; }
    /// <summary>The adapters the current round started from (the last commit).</summary>
    public BlobRef? GlobalSlm { get; init; }
    public BlobRef? GlobalLlm { get; init; }
    /// <summary>The round's working blobs by slot name (<see cref="Slots"/>): the adapters and teacher logits, replaced
    /// phase by phase as the strategy's plan says.</summary>
    public ImmutableDictionary<string, BlobRef> Slots { get; init; } = ImmutableDictionary<string, BlobRef>.Empty;
    [JsonIgnore] public BlobRef? Slm => Slots.GetValueOrDefault(Strategies.Slots.Slm);
    [JsonIgnore] public BlobRef? Llm => Slots.GetValueOrDefault(Strategies.Slots.Llm);
    public DateTimeOffset? ClientDeadline { get; init; }
    public ImmutableDictionary<string, AcceptedUpdate> Updates { get; init; } = ImmutableDictionary<string, AcceptedUpdate>.Empty;
    public ImmutableList<string> Missing { get; init; } = [];
    /// <summary>Clients of the open round attempt whose update the screen refused: fault and reason, by client id.</summary>
    public ImmutableDictionary<string, string> Rejected { get; init; } = ImmutableDictionary<string, string>.Empty;
    public ImmutableDictionary<string, double> RoundMetrics { get; init; } = ImmutableDictionary<string, double>.Empty;
    public ImmutableList<CommittedRound> History { get; init; } = [];
    /// <summary>Zero-shot scores of the pre-trained models, measured when the job initialised.</summary>
    public ImmutableDictionary<string, double> Baseline { get; init; } = ImmutableDictionary<string, double>.Empty;
    public string? FailureReason { get; init; }
    /// <summary>The round's secure-aggregation protocol state; null when the job does not use it.</summary>
    public SecAggRound? SecAgg { get; init; }

    public bool IsRunning => Phase != RoundPhase.NotStarted && !Phase.IsTerminal;

    /// <summary>The strategy's plan of the current phase; null outside a round.</summary>
    [JsonIgnore]
    public PhasePlan? Plan => Job?.Phases.FirstOrDefault(p => p.Name == Phase);

    /// <summary>Clients of the open round that have not submitted yet, in ordinal order. O(K): the job entity lists them
    /// once per round (to task them); per message it asks <see cref="IsWaitingFor"/> and <see cref="WaitingCount"/>.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Waiting =>
        CollectingInTheClear ? Job!.ClientIds.Where(c => !Updates.ContainsKey(c) && !Rejected.ContainsKey(c)).ToArray() : [];

    /// <summary>Whether the open round still waits for this client's update, in O(log K): with thousands of clients the
    /// job entity asks this for every update, resend and heartbeat (<c>fedcollm bench scale --clients 10000</c> spent its
    /// time listing <see cref="Waiting"/> per message).</summary>
    public bool IsWaitingFor(string clientId) =>
        CollectingInTheClear && Job!.Enrols(clientId) && !Updates.ContainsKey(clientId) && !Rejected.ContainsKey(clientId);

    /// <summary>How many clients the open round still waits for; updates and refusals are only ever recorded for
    /// enrolled clients the round waited for, so the count is a difference.</summary>
    [JsonIgnore]
    public int WaitingCount => CollectingInTheClear ? Job!.ClientIds.Count - Updates.Count - Rejected.Count : 0;

    bool CollectingInTheClear => Plan?.RunBy == PhaseRunner.Clients && SecAgg is null;

    // ---- Decide -------------------------------------------------------------------------------

    public RoundDecision Decide(IRoundCommand command, DateTimeOffset now) => command switch
    {
        StartJob c => DecideStart(c, now),
        SubmitUpdate c => DecideUpdate(c, now),
        RejectUpdate c => DecideReject(c, now),
        CloseTraining c => DecideClose(c, now),
        SubmitSecAggMessage c => DecideSecAggMessage(c, now),
        CloseSecAggStep c => DecideSecAggClose(c, now),
        RecordDownload c => DecideDownload(c, now),
        CompleteStep c => DecideStep(c, now),
        RecordBroadcast c => Plan?.RunBy == PhaseRunner.Broadcast && c.Round == Round
            ? RoundDecision.Of(new SlmBroadcast(Round, Slots[Plan.Consumes[0]], c.Recipients.Order(StringComparer.Ordinal).ToArray(), now))
            : RoundDecision.Late($"broadcast of round {c.Round}, but the job is at round {Round}, {Phase}"),
        FailJob c => IsRunning ? RoundDecision.Of(new JobFailed(c.Reason, now)) : RoundDecision.Late($"job already {Phase}"),
        CancelJob c => Job is null ? RoundDecision.Rejected("no job has started")
            : Phase.IsTerminal ? RoundDecision.Duplicate($"job {Job.JobId} already ended ({Phase})")
            : RoundDecision.Of(new JobCancelled(c.Reason, now)),
        _ => throw new ArgumentException($"Unknown round command {command.GetType().Name}.", nameof(command)),
    };

    RoundDecision DecideStart(StartJob c, DateTimeOffset now)
    {
        c.Spec.Validate();
        if (Job is null) return RoundDecision.Of(new JobStarted(c.Spec, now));
        var diff = Job.FirstDifference(c.Spec);
        return diff is null
            ? RoundDecision.Duplicate($"job {Job.JobId} already submitted; it is at round {Round}, {Phase}")
            : RoundDecision.Rejected($"job {Job.JobId} was submitted with a different spec: the first key that differs is {diff}. Submit it under a new job id, or resubmit the original spec to resume.");
    }

    RoundDecision DecideUpdate(SubmitUpdate c, DateTimeOffset now)
    {
        if (Job is null) return RoundDecision.Rejected("no job has started");
        if (!Job.Enrols(c.ClientId))
            return RoundDecision.Rejected($"client \"{c.ClientId}\" is not enrolled in job {Job.JobId} (enrolled: {string.Join(", ", Job.ClientIds)})");
        if (Job.SecureAggregation is not null)
            return RoundDecision.Rejected($"job {Job.JobId} uses secure aggregation: an adapter in the clear from \"{c.ClientId}\" is refused and not kept");
        if (Authenticate(c) is { } forged) return RoundDecision.Rejected(forged);
        if (Job.RequiresSignatures && c.Round == Round && c.Attempt != Attempt)
            return RoundDecision.Late($"update of {c.ClientId} signed for round {c.Round} attempt {c.Attempt}, but the round is at attempt {Attempt}");
        if (c.SampleCount < 1)
            return RoundDecision.Rejected($"update from \"{c.ClientId}\" has SampleCount = {c.SampleCount}; FedAvg weights need at least 1 sample");
        if (c.Round == Round && Rejected.TryGetValue(c.ClientId, out var refusal))
            return RoundDecision.Rejected($"the update of {c.ClientId} for round {Round} was refused earlier in this attempt ({refusal}); it sits the round out");
        if (c.Round == Round && Updates.TryGetValue(c.ClientId, out var previous))
            return previous.Update == c.Update
                ? RoundDecision.Duplicate($"update of {c.ClientId} for round {Round} already accepted")
                : RoundDecision.Rejected($"client {c.ClientId} already submitted {previous.Update} for round {Round}; a different update {c.Update} is refused (training is deterministic, so this means the client's data or settings changed)");
        if (c.Round != Round || Plan?.RunBy != PhaseRunner.Clients)
            return RoundDecision.Late($"update for round {c.Round}, but the job is at round {Round}, {Phase}");
        return RoundDecision.Of(new ClientUpdateAccepted(c.Round, c.ClientId, c.Update, c.SampleCount, c.TrainLoss, now, Attempt, c.Signature, c.Upload));
    }

    /// <summary>Null when the update may be decided on: the job enrols no keys, or the update is signed by the key the job
    /// enrols for the client it names. Else why not. The server also asks this before it fetches an update's bytes.</summary>
    public string? Authenticate(SubmitUpdate c)
    {
        if (Job is not { ClientKeys: { } keys } job) return null;
        if (!keys.TryGetValue(c.ClientId, out var key))
            return $"client \"{c.ClientId}\" has no enrolled key in job {job.JobId}";
        if (c.Signature is null)
            return $"the update of {c.ClientId} for round {c.Round} is unsigned, but job {job.JobId} enrols client keys; give the client's node its private key ({c.ClientId}.key in its keys directory, fedcollm.identity.keys-dir / FEDCOLLM_KEYS_DIR)";
        var statement = new Identity.UpdateStatement(job.JobId, c.Round, c.Attempt, c.ClientId, c.Update, c.SampleCount);
        return statement.IsSignedBy(key, c.Signature)
            ? null
            : $"the signature on the update of {c.ClientId} for round {c.Round} attempt {c.Attempt} does not verify against the key job {job.JobId} enrols for {c.ClientId}: the node signs with another key than the enrolled one, or the update was altered";
    }

    RoundDecision DecideReject(RejectUpdate c, DateTimeOffset now)
    {
        if (Job is null) return RoundDecision.Rejected("no job has started");
        if (!Job.Enrols(c.ClientId))
            return RoundDecision.Rejected($"client \"{c.ClientId}\" is not enrolled in job {Job.JobId}");
        if (c.Round != Round || !IsWaitingFor(c.ClientId))
            return RoundDecision.Late($"refusal of {c.ClientId}'s update for round {c.Round}, but the job is at round {Round}, {Phase} and not waiting for it");
        return new RoundDecision([new ClientUpdateRejected(c.Round, c.ClientId, c.Update, c.Fault, c.Reason, now, c.Upload)], Outcome.Rejected, $"{c.Fault}: {c.Reason}");
    }

    RoundDecision DecideClose(CloseTraining c, DateTimeOffset now)
    {
        if (Plan?.RunBy != PhaseRunner.Clients || c.Round != Round || c.Attempt != Attempt || SecAgg is not null)
            return RoundDecision.Late($"deadline of round {c.Round} attempt {c.Attempt}, but the job is at round {Round} attempt {Attempt}, {Phase}");
        if (Updates.Count >= Job!.MinUpdates)
            return RoundDecision.Of(new TrainingClosed(Round, Waiting.ToArray(), now));
        var reason = $"only {Updates.Count} of {Job.ClientIds.Count} clients answered before the deadline; the quorum is {Job.MinUpdates}";
        return Attempt >= Job.MaxRoundAttempts
            ? RoundDecision.Of(new JobFailed($"round {Round}: {reason}, after {Attempt} attempts", now))
            : RoundDecision.Of(new RoundAbandoned(Round, Attempt, reason, now));
    }

    RoundDecision DecideStep(CompleteStep c, DateTimeOffset now)
    {
        if (c.Round != Round || c.Phase != Phase)
            return RoundDecision.Late($"{c.Phase} result for round {c.Round}, but the job is at round {Round}, {Phase}");
        var outputs = c.Result.Outputs;
        if (Phase == RoundPhase.Initializing)
            return outputs.Count == 2
                ? RoundDecision.Of(new AdaptersInitialized(outputs[0], outputs[1], now, c.Result.Metrics))
                : RoundDecision.Rejected($"{Phase} must produce 2 outputs (SLM and LLM adapters), got {outputs.Count}");
        if (SecAgg is { Computing: true } && Plan?.RunBy == PhaseRunner.Clients)
            return DecideSecAggComputed(c, now);
        if (Plan is not { RunBy: PhaseRunner.Server or PhaseRunner.Aggregator } plan)
            return RoundDecision.Rejected($"phase {Phase} has no step");
        if (outputs.Count != plan.Produces.Count)
            return RoundDecision.Rejected($"{Phase} must produce {plan.Produces.Count} output(s), got {outputs.Count}");
        return plan.Name == Job!.Phases[^1].Name
            ? RoundDecision.Of(new RoundCommitted(Round, Slm!, Llm!, c.Result.Metrics, now))
            : RoundDecision.Of(new PhaseCompleted(Round, Phase, outputs.Count == 0 ? null : outputs[0], c.Result.Metrics, now));
    }

    // ---- Apply --------------------------------------------------------------------------------

    public RoundState Apply(IRoundEvent e) => e switch
    {
        JobStarted s => this with { Job = s.Spec, Phase = RoundPhase.Initializing },
        AdaptersInitialized a => (this with
        {
            GlobalSlm = a.Slm,
            GlobalLlm = a.Llm,
            Baseline = (a.Baseline ?? ImmutableDictionary<string, double>.Empty).ToImmutableDictionary(),
        }).OpenRound(1, 1, a.At),
        ClientUpdateAccepted u => WithUpdate(u).Counted(u.Round, u.ClientId, ClientTransfer.Up, ClientTransfer.Update, u.Update, u.Upload),
        ClientUpdateRejected r => AdvanceIfAllAnswered(this with { Rejected = Rejected.SetItem(r.ClientId, $"{r.Fault}: {r.Reason}") })
            .Counted(r.Round, r.ClientId, ClientTransfer.Up, ClientTransfer.RejectedUpdate, r.Update, r.Upload),
        ClientDownloaded d => Counted(d.Round, d.ClientId, ClientTransfer.Down, d.What, d.Blob, d.Count),
        TrainingClosed t => (this with { Missing = [.. t.Missing] }).Advance(),
        RoundAbandoned r => OpenRound(r.Round, r.Attempt + 1, r.At),
        PhaseCompleted p => WithPhaseOutput(p).Advance(),
        SlmBroadcast => Advance(),
        RoundCommitted c => Commit(c),
        SecAggMessageAccepted m => ApplySecAggMessage(m).Counted(m.Round, m.ClientId, ClientTransfer.Up, ClientTransfer.SecAggMessage(m.Step), m.Message, m.Upload),
        SecAggStepClosed => CloseSecAggCollection(),
        SecAggStepComputed c => ApplySecAggComputed(c),
        JobFailed f => this with { Phase = RoundPhase.Failed, FailureReason = f.Reason },
        JobCancelled c => this with { Phase = RoundPhase.Cancelled, FailureReason = c.Reason },
        _ => throw new ArgumentException($"Unknown round event {e.GetType().Name}.", nameof(e)),
    };

    RoundState OpenRound(int round, int attempt, DateTimeOffset openedAt) => this with
    {
        Round = round,
        Attempt = attempt,
        Phase = Job!.Phases[0].Name,
        Slots = ImmutableDictionary<string, BlobRef>.Empty.Add(Strategies.Slots.Slm, GlobalSlm!).Add(Strategies.Slots.Llm, GlobalLlm!),
        ClientDeadline = Job.Phases.Any(p => p.RunBy == PhaseRunner.Clients) ? openedAt + Job.ClientTimeout : null,
        Updates = ImmutableDictionary<string, AcceptedUpdate>.Empty,
        Missing = [],
        Rejected = ImmutableDictionary<string, string>.Empty,
        RoundMetrics = ImmutableDictionary<string, double>.Empty,
        SecAgg = Job.SecureAggregation is { } secure && Job.Phases.Any(p => p.RunBy == PhaseRunner.Clients)
            ? SecAggRound.Open(Job.ClientIds, openedAt + secure.StepTimeout) : null,
    };

    RoundState WithUpdate(ClientUpdateAccepted u)
    {
        var next = this with
        {
            Updates = Updates.SetItem(u.ClientId, new AcceptedUpdate(u.Update, u.SampleCount, u.TrainLoss)),
            RoundMetrics = RoundMetrics.SetItem($"client/{u.ClientId}/train_loss", u.TrainLoss),
        };
        return AdvanceIfAllAnswered(next);
    }

    /// <summary>Every client has answered (accepted or refused): with a quorum the round goes on at once; without one it
    /// waits for the deadline, which abandons the attempt.</summary>
    static RoundState AdvanceIfAllAnswered(RoundState s) =>
        s.WaitingCount == 0 && s.Updates.Count >= s.Job!.MinUpdates ? s.Advance() : s;

    RoundState WithPhaseOutput(PhaseCompleted p)
    {
        var plan = Plan ?? throw new ArgumentException($"PhaseCompleted for {p.Phase}, which is not the current phase {Phase}.", nameof(p));
        var metrics = RoundMetrics.SetItems(p.Metrics);
        return plan.Produces.Count == 1 && p.Output is { } output
            ? this with { Slots = Slots.SetItem(plan.Produces[0], output), RoundMetrics = metrics }
            : this with { RoundMetrics = metrics };
    }

    /// <summary>Moves to the phase after the current one in the job's plan.</summary>
    RoundState Advance()
    {
        var plan = Job!.Phases;
        int i = plan.Select(p => p.Name).ToList().IndexOf(Phase);
        return this with { Phase = plan[i + 1].Name, ClientDeadline = null };
    }

    RoundState Commit(RoundCommitted c)
    {
        var participants = SecAgg is { } secAgg ? secAgg.Masked.Keys : Updates.Keys;
        var record = new CommittedRound(c.Round, Attempt, participants.Order(StringComparer.Ordinal).ToArray(), Missing,
            c.Slm, c.Llm, RoundMetrics.SetItems(c.Metrics), c.At);
        var committed = this with { History = History.Add(record), GlobalSlm = c.Slm, GlobalLlm = c.Llm };
        return c.Round >= Job!.Rounds
            ? committed with { Phase = RoundPhase.Completed, SecAgg = null, Slots = Slots.Clear(), Updates = committed.Updates.Clear(), RoundMetrics = committed.RoundMetrics.Clear() }
            : committed.OpenRound(c.Round + 1, 1, c.At);
    }

    // ---- What the actor must do now -----------------------------------------------------------

    /// <summary>The side effect the current state calls for. The actor re-derives it after every persist and
    /// after recovery, so a crash anywhere re-issues exactly the pending work.</summary>
    public RoundWork NextWork()
    {
        if (Job is null) return RoundWork.Nothing;
        if (Phase == RoundPhase.Initializing)
            return new RunServerStep(new StepRequest(Job.JobId, 0, Phase, [], StepSeeds.For(Job.Seed, 0, Phase)) { Operation = InitializeOperation, Spec = Job.DefinitionRef });
        if (Plan is not { } plan) return RoundWork.Nothing;
        StepRequest Step(IReadOnlyList<BlobRef> inputs, IReadOnlyList<long>? counts = null) =>
            new(Job.JobId, Round, Phase, inputs, StepSeeds.For(Job.Seed, Round, Phase), SampleCounts: counts) { Operation = plan.Operation, Spec = Job.DefinitionRef };
        switch (plan.RunBy)
        {
            case PhaseRunner.Clients when SecAgg is not null:
                return SecAggWork();
            case PhaseRunner.Aggregator when SecAgg is not null:
                return SecAggAggregation();
            case PhaseRunner.Clients:
                return new CollectUpdates(Round, Attempt, Slots[plan.Consumes[0]], ClientDeadline!.Value);
            case PhaseRunner.Aggregator:
                var ids = Updates.Keys.Order(StringComparer.Ordinal).ToArray();
                return new RunAggregation(Step(ids.Select(i => Updates[i].Update).ToArray(), ids.Select(i => Updates[i].SampleCount).ToArray()));
            case PhaseRunner.Broadcast:
                return new BroadcastSlm(Round, Slots[plan.Consumes[0]], Final: Round == Job!.Rounds);
            default:
                return new RunServerStep(Step(plan.Consumes.Select(slot => Slots[slot]).ToArray()));
        }
    }

    /// <summary>The operation of <see cref="RoundPhase.Initializing"/>: the seeded initial adapters of both models,
    /// scored once (the "round 0" baseline).</summary>
    public const string InitializeOperation = "initialize";
}

/// <summary>A side effect requested by <see cref="RoundState.NextWork"/>.</summary>
public abstract record RoundWork
{
    public static RoundWork Nothing { get; } = new NoWork();
}

public sealed record NoWork : RoundWork;
public sealed record RunServerStep(StepRequest Request) : RoundWork;
public sealed record RunAggregation(StepRequest Request) : RoundWork;
/// <summary>Clients train the round from <paramref name="GlobalSlm"/>; the state's <see cref="RoundState.Waiting"/> names who
/// is still to answer (not carried here: listing it is O(K), and this work is derived for every message).</summary>
public sealed record CollectUpdates(int Round, int Attempt, BlobRef GlobalSlm, DateTimeOffset Deadline) : RoundWork;
/// <param name="Final">The job's last round: its adapter is the final download.</param>
public sealed record BroadcastSlm(int Round, BlobRef Slm, bool Final) : RoundWork;

using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Telemetry;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Actors.Server;

/// <summary>
/// One federation job: a sharded, event-sourced entity around <see cref="RoundState"/>. It holds no round
/// logic: commands go through <see cref="RoundState.Decide"/>, events are persisted one per transition and
/// folded with <see cref="RoundState.Apply"/>, and only then does <see cref="Reconcile"/> perform the side
/// effect <see cref="RoundState.NextWork"/> asks for. Recovery replays the journal and calls the same
/// <see cref="Reconcile"/>, so a crash at any point re-issues exactly the pending work; deadlines are
/// re-armed from their persisted absolute times. Client refs live only in memory and are rebuilt by the
/// clients' registration heartbeat.
/// </summary>
public sealed class ServerActor : ReceivePersistentActor, IWithTimers
{
    public static Props Props(string jobId, NodeServices services, IActorRef aggregators, IActorRef directory) =>
        Akka.Actor.Props.Create(() => new ServerActor(jobId, services, aggregators, directory));

    // Timer ticks: local, never serialized.
    sealed record DeadlineDue(int Round, int Attempt) : INoSerializationVerificationNeeded;
    sealed record RetryDue(string Key) : INoSerializationVerificationNeeded;
    sealed record UpdateFetched(SubmitClientUpdate Update, IActorRef ReplyTo, Learning.Federation.UpdateVerdict Verdict, Blobs.TransferCount Upload) : INoSerializationVerificationNeeded;
    sealed record UpdateFetchFailed(SubmitClientUpdate Update, string Error) : INoSerializationVerificationNeeded;
    sealed record AggregateFetched(Aggregated Result) : INoSerializationVerificationNeeded;
    sealed record StepReplicated(StepRequest Request, StepResult Result) : INoSerializationVerificationNeeded;

    sealed record DirectoryTick : INoSerializationVerificationNeeded { public static readonly DirectoryTick Instance = new(); }
    sealed record DecideQueued : INoSerializationVerificationNeeded { public static readonly DecideQueued Instance = new(); }
    sealed record SecAggDeadlineDue(int Round, int Attempt, int Step) : INoSerializationVerificationNeeded;
    sealed record SecAggFetched(SubmitSecAggStep Message, IActorRef ReplyTo, Blobs.TransferCount Upload) : INoSerializationVerificationNeeded;
    sealed record SecAggFetchFailed(SubmitSecAggStep Message, string Error) : INoSerializationVerificationNeeded;

    readonly string jobId;
    readonly NodeServices services;
    readonly IActorRef aggregators;
    readonly IActorRef directory;
    readonly ILoggingAdapter log = Context.GetLogger();
    readonly Dictionary<string, IActorRef> clients = new(StringComparer.Ordinal);
    readonly Dictionary<string, LiveProgress> live = new(StringComparer.Ordinal);
    readonly HashSet<string> fetchingUpdates = new(StringComparer.Ordinal);
    // The clients' own messages (fetched updates, refusals, download reports) wait here and are decided together, one
    // journal write for all that arrived meanwhile: with thousands of clients, one write per update was most of a round
    // (`fedcollm bench scale --clients 10000`: 17 s of journal writes in a 26 s round). Decided in arrival order, against
    // the state as it is when they are decided, so the events are those one-at-a-time decisions would make.
    readonly List<(IRoundCommand Command, Action<RoundDecision> After)> queued = [];
    // What fetching each client message has moved so far, by message: kept across a failed fetch and the client's resend,
    // so the bytes of a broken transfer are counted too; dropped once the message is decided. In memory only: a crash
    // between a fetch and its decision loses that fetch's count (the journal then shows the refetch's).
    readonly Dictionary<string, Blobs.TransferTally> uploads = new(StringComparer.Ordinal);
    IActorRef worker = ActorRefs.Nobody;
    IActorRef? aggregator;
    RoundState state = RoundState.Empty;
    readonly PendingStep pending;
    readonly JobEventMetrics metrics;
    readonly IDisposable pendingGauge;
    // Which round attempt's deadline timer is armed and whose clients were tasked (re-derived after a restart).
    string? armedDeadline;
    string? taskedRound;
    // The same for the secure-aggregation steps ("round/attempt/step"), and the client messages being fetched.
    string? armedSecAggDeadline;
    string? taskedSecAggStep;
    readonly HashSet<string> fetchingSecAgg = new(StringComparer.Ordinal);
    // What the directory has acknowledged of this job: listed, then delisted (resent on a timer until then).
    bool listed, delisted;
    // The work the current state calls for, derived once per state: heartbeats, resends and registrations ask for it
    // thousands of times a second at scale, and deriving it lists or sorts the clients in some phases.
    RoundState? workOf;
    RoundWork work = RoundWork.Nothing;
    RoundWork Work
    {
        get
        {
            if (ReferenceEquals(workOf, state)) return work;
            work = state.NextWork();
            workOf = state;
            return work;
        }
    }
    // Events replayed by recovery (reported in JobEntityRecovered: the failover bench's journal-replay figure).
    long replayed;

    public const string PersistenceIdPrefix = "federation-job-";

    public override string PersistenceId => PersistenceIdPrefix + jobId;
    public ITimerScheduler Timers { get; set; } = null!;

    public ServerActor(string jobId, NodeServices services, IActorRef aggregators, IActorRef directory)
    {
        this.jobId = jobId;
        this.services = services;
        this.aggregators = aggregators;
        this.directory = directory;
        pending = new PendingStep(services.Retries);
        metrics = new JobEventMetrics(jobId);
        pendingGauge = FederationMetrics.TrackPendingStep(jobId, () => pending.Key is not null);

        Recover<SnapshotOffer>(offer =>
        {
            state = (RoundState)offer.Snapshot;
            metrics.Restored(state);
        });
        Recover<IRoundEvent>(e =>
        {
            replayed++;
            var before = state;
            state = state.Apply(e);
            metrics.Observe(before, e, state, live: false);
        });
        Recover<RecoveryCompleted>(_ =>
        {
            metrics.Recovered(state);
            log.Info("Job {JobId} recovered at round {Round}, {Phase}", jobId, state.Round, state.Phase);
            Context.System.EventStream.Publish(new JobEntityRecovered(jobId, state.Round, state.Phase.Name, replayed));
            Reconcile();
        });

        Command<StartFederation>(OnStart);
        Command<CancelFederation>(OnCancel);
        Command<DirectoryTick>(_ => Announce());
        Command<DecideQueued>(_ => DecideQueuedCommands());
        Command<JobListed>(_ => listed = true);
        Command<JobDelisted>(_ =>
        {
            delisted = true;
            Timers.Cancel("directory");
        });
        Command<GetJobStatus>(_ => Sender.Tell(new JobStatus(jobId, state, live.Values.OrderBy(p => p.Worker, StringComparer.Ordinal).ToArray())));
        Command<RegisterClient>(OnRegister);
        Command<SubmitClientUpdate>(OnUpdate);
        Command<UpdateFetched>(OnUpdateFetched);
        Command<UpdateFetchFailed>(f =>
        {
            fetchingUpdates.Remove(f.Update.ClientId);
            log.Warning("Could not fetch the update of {ClientId} for round {Round} ({Error}); waiting for the client's resend", f.Update.ClientId, f.Update.Round, f.Error);
        });
        Command<ReportProgress>(p => live[p.Progress.Worker] = p.Progress);
        Command<SubmitSecAggStep>(OnSecAggStep);
        Command<SecAggFetched>(f =>
        {
            fetchingSecAgg.Remove(SecAggKey(f.Message));
            uploads.Remove("secagg/" + SecAggKey(f.Message));
            DecideSecAgg(f.Message, f.ReplyTo, f.Upload);
        });
        Command<ReportDownload>(OnDownload);
        Command<SecAggFetchFailed>(f =>
        {
            fetchingSecAgg.Remove(SecAggKey(f.Message));
            log.Warning("Could not fetch the step {Step} message of {ClientId} ({Error}); waiting for the client's resend", f.Message.Step, f.Message.ClientId, f.Error);
        });
        Command<SecAggDeadlineDue>(d => Decide(new CloseSecAggStep(d.Round, d.Attempt, d.Step)));
        Command<DeadlineDue>(d => Decide(new CloseTraining(d.Round, d.Attempt)));
        Command<RetryDue>(r =>
        {
            if (pending.Key == r.Key) pending.Drop();
            Reconcile();
        });
        Command<TrainingWorker.StepSucceeded>(s => OnStepSucceeded(s.Request, s.Result));
        Command<TrainingWorker.StepFailed>(f => OnStepFailed(f.Request, f.Error));
        Command<TrainingWorker.StepProgressed>(p =>
            live["server"] = new LiveProgress("server", p.Request.Round, p.Request.Phase, p.Progress.Step, p.Progress.TotalSteps, p.Progress.Loss));
        Command<Aggregated>(OnAggregated);
        Command<AggregateFetched>(f => OnStepSucceeded(f.Result.Request, f.Result.Result));
        Command<StepReplicated>(r => OnStepReplicated(r.Request, r.Result));
        Command<AggregationFailed>(f => OnStepFailed(f.Request, f.Error));
        Command<AggregationStarted>(OnAggregationStarted);
        Command<Terminated>(t =>
        {
            foreach (var id in clients.Where(kv => kv.Value.Equals(t.ActorRef)).Select(kv => kv.Key).ToList()) clients.Remove(id);
            if (t.ActorRef.Equals(aggregator)) OnAggregatorLost();
        });
        Command<SaveSnapshotSuccess>(s => log.Debug("Snapshot at sequence {0}", s.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(f => log.Warning("Snapshot failed ({0}); recovery will replay more events", f.Cause.Message));
    }

    protected override void PreStart()
    {
        worker = Context.ActorOf(TrainingWorker.Props(services.Runner), "worker");
        Context.System.EventStream.Publish(new JobEntityStarted(jobId));
        base.PreStart();
    }

    /// <summary>The trust boundary (<see cref="Identity.TrustBoundary"/>): a server-internal or operator message from a member
    /// that may not send it is refused here, before any handler (so before anything is journaled).</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        if (Identity.TrustBoundary.Refusal(Context.System, message, Sender) is not { } refusal) return base.AroundReceive(receive, message);
        log.Warning("Job {0}: {1}", jobId, refusal);
        if (message is StartFederation or CancelFederation) Sender.Tell(new JobAccepted(jobId, Outcome.Rejected, refusal));
        return true;
    }

    protected override void PostStop()
    {
        pendingGauge.Dispose();
        base.PostStop();
    }

    // A worker that throws after reporting StepFailed is restarted; the retry is this actor's decision.
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(maxNrOfRetries: -1, withinTimeRange: Timeout.InfiniteTimeSpan, _ => Directive.Restart);

    // ---- commands ------------------------------------------------------------------------------

    void OnStart(StartFederation start)
    {
        var replyTo = Sender;
        RoundDecision decision;
        try
        {
            decision = state.Decide(new StartJob(start.Spec), DateTimeOffset.UtcNow);
        }
        catch (ArgumentException e)
        {
            replyTo.Tell(new JobAccepted(jobId, Outcome.Rejected, e.Message));
            return;
        }
        Persist(decision, d => replyTo.Tell(new JobAccepted(jobId, d.Outcome, d.Detail)));
    }

    void OnCancel(CancelFederation cancel)
    {
        var replyTo = Sender;
        Persist(state.Decide(new CancelJob(cancel.Reason), DateTimeOffset.UtcNow), d => replyTo.Tell(new JobAccepted(jobId, d.Outcome, d.Detail)));
    }

    void OnRegister(RegisterClient register)
    {
        if (!clients.TryGetValue(register.ClientId, out var known) || !known.Equals(register.Client))
        {
            clients[register.ClientId] = register.Client;
            Context.Watch(register.Client);
        }
        Sender.Tell(new ClientRegistered(jobId, register.ClientId, services.Timeouts.HeartbeatFor(state.Job?.ClientIds.Count ?? 1)));
        if (state.Phase.IsTerminal) Sender.Tell(new JobEnded(jobId, state.Phase));
        // The heartbeat doubles as the task resend: a client that lost its task (or restarted) gets it again;
        // clients ignore a task they are already working on.
        switch (Work)
        {
            // Not while its update is being fetched: the task would only make it send that update again.
            case CollectUpdates c when state.IsWaitingFor(register.ClientId) && !fetchingUpdates.Contains(register.ClientId):
                SendTask(c, register.ClientId, register.Client);
                break;
            case Rounds.CollectSecAgg when state.SecAgg!.IsWaitingFor(register.ClientId):
                SendSecAggTask(register.ClientId, register.Client);
                break;
        }
        Reconcile();
    }

    /// <summary>An update is decided once, after its bytes are here: the bytes must be in this node's store, and in another
    /// server node's, before the journal says the update was accepted (a job entity that moves to another server node
    /// must find them there). Only updates the round is still waiting for are fetched at all, and each is screened
    /// first (<see cref="UpdateScreening"/>: size and n_k before the fetch, then the bytes): a refused one is journaled
    /// with its reason, never replicated, and the round goes on with the others.</summary>
    void OnUpdate(SubmitClientUpdate update)
    {
        // A forged or unsigned update is refused before its bytes are fetched from the holder it names.
        if (!state.IsWaitingFor(update.ClientId) || update.Round != state.Round || state.Authenticate(ToCommand(update)) is not null
            || Work is not CollectUpdates round)
        {
            Decide(ToCommand(update), Sender);
            return;
        }
        if (UpdateScreening.Declared(update.Update, round.GlobalSlm, update.SampleCount) is { Accepted: false } declared)
        {
            Refuse(update, declared, Sender);
            return;
        }
        if (!fetchingUpdates.Add(update.ClientId)) return;
        var replyTo = Sender;
        var system = Context.System;
        var limits = UpdateScreening.Limits(state.Job!);
        var tally = Tally($"{update.Round}/{update.Attempt}/{update.ClientId}/{update.Update.Sha256}");
        FetchScreenAndReplicate().PipeTo(Self,
            success: verdict => new UpdateFetched(update, replyTo, verdict, tally.Count()),
            failure: e => new UpdateFetchFailed(update, e.Message));

        async Task<Learning.Federation.UpdateVerdict> FetchScreenAndReplicate()
        {
            await services.Blobs.EnsureLocalAsync(system, update.Update, update.Holder, tally: tally);
            var verdict = await UpdateScreening.ScreenAsync(services.Store, round.GlobalSlm, update.Update, update.SampleCount, limits);
            if (verdict.Accepted) await services.Blobs.ReplicateToServersAsync(system, [update.Update]);
            return verdict;
        }
    }

    Blobs.TransferTally Tally(string key)
    {
        if (!uploads.TryGetValue(key, out var tally)) uploads[key] = tally = new Blobs.TransferTally();
        return tally;
    }

    void OnUpdateFetched(UpdateFetched fetched)
    {
        var u = fetched.Update;
        uploads.Remove($"{u.Round}/{u.Attempt}/{u.ClientId}/{u.Update.Sha256}");
        // The client stays "being fetched" until its update is decided, so its resends and heartbeats start nothing new.
        if (fetched.Verdict.Accepted) Enqueue(ToCommand(u) with { Upload = fetched.Upload }, UpdateAcknowledgement(fetched.ReplyTo, u.ClientId, u.Round));
        else Refuse(u, fetched.Verdict, fetched.ReplyTo, fetched.Upload);
    }

    /// <summary>Journals what a client measured fetching from this job's server (its report of a download), in any phase.</summary>
    void OnDownload(ReportDownload report)
    {
        var replyTo = Sender;
        Enqueue(new RecordDownload(report.Round, report.ClientId, report.What, report.Blob, report.Count),
            d => replyTo.Tell(new DownloadAcknowledged(jobId, report.Round, report.ClientId, report.What, report.Blob, d.Outcome, d.Detail)));
    }

    void Refuse(SubmitClientUpdate u, Learning.Federation.UpdateVerdict verdict, IActorRef replyTo, Blobs.TransferCount? upload = null)
    {
        log.Warning("Refused the update of {ClientId} for round {Round} ({Fault}): {Reason}", u.ClientId, u.Round, verdict.Fault, verdict.Reason);
        var command = new RejectUpdate(u.Round, u.ClientId, u.Update, verdict.Fault!, verdict.Reason!, upload);
        Enqueue(command, d => replyTo.Tell(new UpdateAcknowledged(jobId, command.Round, command.ClientId, d.Outcome, d.Detail)));
    }

    void Decide(SubmitUpdate command, IActorRef replyTo) =>
        Persist(state.Decide(command, DateTimeOffset.UtcNow), UpdateAcknowledgement(replyTo, command.ClientId, command.Round));

    Action<RoundDecision> UpdateAcknowledgement(IActorRef replyTo, string clientId, int round) => d =>
    {
        if (d.Outcome is Outcome.Rejected) log.Warning("Update of {0} for round {1} refused: {2}", clientId, round, d.Detail);
        replyTo.Tell(new UpdateAcknowledged(jobId, round, clientId, d.Outcome, d.Detail));
    };

    static SubmitUpdate ToCommand(SubmitClientUpdate u) => new(u.Round, u.ClientId, u.Update, u.SampleCount, u.TrainLoss, u.Attempt, u.Signature);

    void OnAggregationStarted(AggregationStarted started)
    {
        if (!pending.IsFor(started.Request)) return;
        if (!Sender.Equals(aggregator))
        {
            if (aggregator is not null) Context.Unwatch(aggregator);
            aggregator = Sender;
            Context.Watch(aggregator);
        }
        Timers.StartSingleTimer("step-timeout", new RetryDue(PendingStep.KeyOf(started.Request)), state.Job!.AggregationTimeout);
    }

    /// <summary>The aggregator entity working on our request is gone (its node died or was downed): ask again now.</summary>
    void OnAggregatorLost()
    {
        aggregator = null;
        if (Work is not RunAggregation a || !pending.IsFor(a.Request)) return;
        log.Warning("The aggregator of {0} was lost; asking again", a.Request);
        pending.Drop();
        Reconcile();
    }

    void OnAggregated(Aggregated aggregated)
    {
        if (!pending.IsFor(aggregated.Request)) return;
        services.Blobs.EnsureLocalAsync(Context.System, aggregated.Result.Outputs[0], aggregated.Holder).PipeTo(Self,
            success: _ => new AggregateFetched(aggregated),
            failure: e => new AggregationFailed(jobId, aggregated.Request, $"fetching the aggregate failed: {e.Message}"));
    }

    // A step's outputs are copied to the other server nodes before the journal names them (see OnUpdate).
    void OnStepSucceeded(StepRequest request, StepResult result)
    {
        if (!pending.IsFor(request)) return;
        services.Blobs.ReplicateToServersAsync(Context.System, result.Outputs).PipeTo(Self,
            success: () => new StepReplicated(request, result),
            failure: e => new TrainingWorker.StepFailed(request, $"replicating the outputs to the other server nodes failed: {e.Message}"));
    }

    void OnStepReplicated(StepRequest request, StepResult result)
    {
        if (!pending.IsFor(request)) return;
        pending.Succeeded();
        Timers.Cancel("step-timeout");
        live.Remove("server");
        Decide(new CompleteStep(request.Round, request.Phase, result));
    }

    void OnStepFailed(StepRequest request, string error)
    {
        if (!pending.IsFor(request)) return;
        Timers.Cancel("step-timeout");
        var (attempts, retryIn) = pending.Failed();
        if (retryIn is not { } delay)
        {
            log.Error("Step {0} failed {1} times, giving up: {2}", request, attempts, error);
            pending.Drop();
            Decide(new FailJob($"{request.Phase} of round {request.Round} failed {attempts} times; last error: {error}"));
            return;
        }
        log.Warning("Step {0} failed (attempt {1} of {2}), retrying in {3}: {4}", request, attempts, services.Retries.MaxAttempts, delay, error);
        Timers.StartSingleTimer("retry", new RetryDue(pending.Key!), delay);
    }

    // ---- persistence -----------------------------------------------------------------------------

    void Decide(IRoundCommand command) => Persist(state.Decide(command, DateTimeOffset.UtcNow), d =>
    {
        if (d.Outcome is Outcome.Rejected) log.Warning("{0} refused: {1}", command.GetType().Name, d.Detail);
    });

    void Enqueue(IRoundCommand command, Action<RoundDecision> after)
    {
        queued.Add((command, after));
        if (queued.Count == 1) Self.Tell(DecideQueued.Instance);
    }

    /// <summary>Decides every queued command in order, each against the state the ones before it leave, and persists all
    /// their events in one write.</summary>
    void DecideQueuedCommands()
    {
        if (queued.Count == 0) return;
        var now = DateTimeOffset.UtcNow;
        var folded = state;
        var decisions = new List<(RoundDecision, Action<RoundDecision>)>(queued.Count);
        foreach (var (command, after) in queued)
        {
            // Its fetched update is decided now; from here the client's resends are decided like any other message (while
            // the write is in flight they wait in the stash, and a rejected write leaves the client free to resend).
            if (command is SubmitUpdate { ClientId: var accepted }) fetchingUpdates.Remove(accepted);
            if (command is RejectUpdate { ClientId: var refused }) fetchingUpdates.Remove(refused);
            var decision = folded.Decide(command, now);
            foreach (var e in decision.Events) folded = folded.Apply(e);
            decisions.Add((decision, after));
        }
        queued.Clear();
        Persist(decisions);
    }

    void Persist(RoundDecision decision, Action<RoundDecision> after) => Persist([(decision, after)]);

    /// <summary>Persists the decisions' events in one write, folds them in, then runs each decision's after-action in
    /// order and the side effects once; decisions without events run their after-actions at once.</summary>
    void Persist(IReadOnlyList<(RoundDecision Decision, Action<RoundDecision> After)> decisions)
    {
        var events = decisions.SelectMany(d => d.Decision.Events).ToArray();
        if (events.Length == 0)
        {
            foreach (var (decision, after) in decisions) after(decision);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        int applied = 0;
        PersistAll(events, e =>
        {
            var before = state;
            state = state.Apply(e);
            metrics.Observe(before, e, state, live: true);
            if (e is RoundCommitted committed)
            {
                SaveSnapshot(state);
                log.Info("Job {JobId} committed round {Round}", jobId, committed.Round);
            }
            if (++applied == events.Length)
            {
                FederationMetrics.JournalWritten("job", started, events.Length);
                foreach (var (decision, after) in decisions) after(decision);
                Reconcile();
            }
        });
    }

    // ---- side effects ----------------------------------------------------------------------------

    void Reconcile()
    {
        if (state.Job is { } job && !services.Store.Contains(job.DefinitionRef))
            services.Store.Put(job.DefinitionBytes); // the spec every step names; rebuilt from the journal on any server node
        Announce();
        if (state.Phase.IsTerminal && pending.Key is not null) StopRunningStep();
        switch (Work)
        {
            case RunServerStep s:
                Dispatch(s.Request, () => worker.Tell(new TrainingWorker.RunStep(s.Request)));
                break;
            case RunAggregation a:
                Dispatch(a.Request, () =>
                {
                    aggregators.Tell(new AggregateUpdates(jobId, a.Request, services.BlobServerPath));
                    // Asked again unless an aggregator acknowledges it (then watched: see OnAggregationStarted).
                    Timers.StartSingleTimer("step-timeout", new RetryDue(PendingStep.KeyOf(a.Request)), services.Timeouts.AggregationAck);
                });
                break;
            case CollectUpdates c:
                CollectUpdates(c);
                break;
            case CollectSecAgg s:
                CollectSecAgg(s);
                break;
            case BroadcastSlm b:
                var recipients = clients.Keys.Order(StringComparer.Ordinal).ToArray();
                foreach (var id in recipients) clients[id].Tell(new GlobalSlmReady(jobId, b.Round, b.Slm, services.BlobServerPath, b.Final));
                Decide(new RecordBroadcast(b.Round, recipients));
                break;
            default:
                Timers.Cancel("deadline");
                Timers.Cancel("step-timeout");
                Timers.Cancel("retry");
                break;
        }
    }

    /// <summary>Tells the directory the job exists, and later that it ended; resent until acknowledged.</summary>
    void Announce()
    {
        if (state.Job is not { } job || delisted) return;
        if (!listed) directory.Tell(new ListJob(jobId, job.ClientIds));
        else if (state.Phase.IsTerminal)
        {
            directory.Tell(new DelistJob(jobId, state.Phase.ToString()));
            foreach (var client in clients.Values) client.Tell(new JobEnded(jobId, state.Phase));
        }
        else return;
        if (!Timers.IsTimerActive("directory")) Timers.StartPeriodicTimer("directory", DirectoryTick.Instance, services.Timeouts.ClientHeartbeat);
    }

    /// <summary>A cancelled (or failed) job stops its running step: the worker's stop cancels the step's token.</summary>
    void StopRunningStep()
    {
        pending.Drop();
        Context.Stop(worker);
        worker = Context.ActorOf(TrainingWorker.Props(services.Runner), $"worker-{Guid.NewGuid():N}");
    }

    void Dispatch(StepRequest request, Action send)
    {
        if (pending.Begin(request)) send();
    }

    void CollectUpdates(CollectUpdates c)
    {
        var roundKey = $"{c.Round}/{c.Attempt}";
        if (armedDeadline != roundKey)
        {
            armedDeadline = roundKey;
            var delay = c.Deadline - DateTimeOffset.UtcNow;
            Timers.StartSingleTimer("deadline", new DeadlineDue(c.Round, c.Attempt), delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
        }
        if (taskedRound == roundKey) return;
        taskedRound = roundKey;
        foreach (var id in state.Waiting)
            if (clients.TryGetValue(id, out var client)) SendTask(c, id, client);
    }

    // ---- secure aggregation --------------------------------------------------------------------

    static string SecAggKey(SubmitSecAggStep m) => $"{m.Round}/{m.Attempt}/{m.Step}/{m.ClientId}";

    /// <summary>As <see cref="OnUpdate"/>: a message the open step waits for is decided once its bytes are in this node's
    /// store and another server node's; any other is decided at once (duplicate, late or refused).</summary>
    void OnSecAggStep(SubmitSecAggStep message)
    {
        if (Work is not CollectSecAgg c || c.Round != message.Round || c.Attempt != message.Attempt || c.Step != message.Step
            || !state.SecAgg!.IsWaitingFor(message.ClientId))
        {
            DecideSecAgg(message, Sender);
            return;
        }
        if (!fetchingSecAgg.Add(SecAggKey(message))) return;
        var replyTo = Sender;
        var system = Context.System;
        var tally = Tally("secagg/" + SecAggKey(message));
        FetchAndReplicate().PipeTo(Self,
            success: () => new SecAggFetched(message, replyTo, tally.Count()),
            failure: e => new SecAggFetchFailed(message, e.Message));

        async Task FetchAndReplicate()
        {
            await services.Blobs.EnsureLocalAsync(system, message.Message, message.Holder, tally: tally);
            await services.Blobs.ReplicateToServersAsync(system, [message.Message]);
        }
    }

    void DecideSecAgg(SubmitSecAggStep m, IActorRef replyTo, Blobs.TransferCount? upload = null) =>
        Persist(state.Decide(new SubmitSecAggMessage(m.Round, m.Attempt, m.Step, m.ClientId, m.Message, upload), DateTimeOffset.UtcNow),
            d => replyTo.Tell(new SecAggAcknowledged(jobId, m.Round, m.Attempt, m.Step, m.ClientId, d.Outcome, d.Detail)));

    void CollectSecAgg(CollectSecAgg c)
    {
        var key = $"{c.Round}/{c.Attempt}/{c.Step}";
        if (armedSecAggDeadline != key)
        {
            armedSecAggDeadline = key;
            var delay = c.Deadline - DateTimeOffset.UtcNow;
            Timers.StartSingleTimer("deadline", new SecAggDeadlineDue(c.Round, c.Attempt, c.Step), delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
        }
        if (taskedSecAggStep == key) return;
        taskedSecAggStep = key;
        foreach (var id in c.Waiting)
            if (clients.TryGetValue(id, out var client)) SendSecAggTask(id, client);
    }

    void SendSecAggTask(string clientId, IActorRef client) =>
        client.Tell(new SecAggTask(jobId, state.SecAggClientTask(clientId), services.BlobServerPath));

    void SendTask(CollectUpdates c, string clientId, IActorRef client)
    {
        var seed = StepSeeds.For(state.Job!.Seed, c.Round, RoundPhase.ClientsTraining, clientId);
        client.Tell(new TrainRound(jobId, c.Round, c.Attempt, c.GlobalSlm, seed, services.BlobServerPath, state.Job.DefinitionRef));
    }
}

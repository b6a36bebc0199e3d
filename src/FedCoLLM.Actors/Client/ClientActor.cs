using Akka.Actor;
using Akka.Event;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Telemetry;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Actors.Client;

/// <summary>
/// One data silo: holds the path to its private training file (which never leaves this node; only the
/// fine-tuned adapter does, by content address) and fine-tunes the global SLM adapter when the job asks.
/// Registers with the job's ServerActor through the shard region on start and then as a heartbeat, so it
/// finds the job again after the entity moves or restarts. Updates are resent until acknowledged; a task it
/// already finished is answered from memory, so duplicate tasks cost nothing.
/// </summary>
public sealed class ClientActor : ReceiveActor, IWithTimers
{
    /// <param name="signer">The silo's private key; null leaves its updates unsigned (refused by jobs that enrol client keys).</param>
    public static Props Props(string jobId, string clientId, string dataPath, IActorRef servers, NodeServices services, Identity.ClientSigner? signer = null) =>
        Akka.Actor.Props.Create(() => new ClientActor(jobId, clientId, dataPath, servers, services, signer));

    sealed record RegisterTick : INoSerializationVerificationNeeded { public static readonly RegisterTick Instance = new(); }
    sealed record ResendTick(int Round, TimeSpan After) : INoSerializationVerificationNeeded;
    sealed record SlmFetched(TrainRound Task) : INoSerializationVerificationNeeded;
    sealed record SlmFetchFailed(TrainRound Task, string Error) : INoSerializationVerificationNeeded;
    sealed record RetryTask(TrainRound Task) : INoSerializationVerificationNeeded;
    sealed record SecAggInputsReady(SecAggTask Task) : INoSerializationVerificationNeeded;
    sealed record SecAggInputsFailed(SecAggTask Task, string Error) : INoSerializationVerificationNeeded;
    sealed record SecAggRetry(SecAggTask Task) : INoSerializationVerificationNeeded;
    sealed record SecAggResend(string Key) : INoSerializationVerificationNeeded;
    sealed record Prefetched(GlobalSlmReady Ready, string? Error) : INoSerializationVerificationNeeded;
    sealed record DownloadResend(TimeSpan After) : INoSerializationVerificationNeeded;
    sealed record FinishNow : INoSerializationVerificationNeeded { public static readonly FinishNow Instance = new(); }

    /// <summary>The job is gone from the directory: stop once the last download reports are acknowledged (as on <see cref="JobEnded"/>).</summary>
    public sealed record Finish : INoSerializationVerificationNeeded { public static readonly Finish Instance = new(); }

    /// <summary>How long a client whose job ended keeps going to report its last downloads (the final adapter's) before it stops anyway.</summary>
    public static readonly TimeSpan FinalReportGrace = TimeSpan.FromSeconds(30);

    readonly string jobId;
    readonly string clientId;
    readonly string dataPath;
    readonly IActorRef servers;
    readonly NodeServices services;
    readonly Identity.ClientSigner? signer;
    readonly ILoggingAdapter log = Context.GetLogger();
    readonly Dictionary<int, (Blobs.BlobRef From, SubmitClientUpdate Update)> finished = new();
    IActorRef worker = ActorRefs.Nobody;
    TrainRound? current;
    bool registered;
    TimeSpan heartbeat;
    TimeSpan registerDelay;
    int failedAttempts;
    // Secure aggregation: the step being worked on and the messages already sent (resent until acknowledged). Steps are
    // pure functions of their inputs and this node's secret, so a restarted client simply runs them again.
    readonly Dictionary<string, SubmitSecAggStep> secAggSent = new(StringComparer.Ordinal);
    SecAggTask? secAggCurrent;
    int secAggFailures;
    // Communication accounting: what each fetch for this job moved (by round/what/blob; kept across the retries of a failed
    // fetch), the reports of it not yet acknowledged, the broadcast prefetches in flight, and whether the job has ended.
    readonly Dictionary<string, Blobs.TransferTally> tallies = new(StringComparer.Ordinal);
    readonly Dictionary<string, ReportDownload> unacknowledged = new(StringComparer.Ordinal);
    readonly HashSet<string> prefetching = new(StringComparer.Ordinal);
    RoundPhase? ending;

    public ITimerScheduler Timers { get; set; } = null!;

    public ClientActor(string jobId, string clientId, string dataPath, IActorRef servers, NodeServices services, Identity.ClientSigner? signer = null)
    {
        this.signer = signer;
        this.jobId = jobId;
        this.clientId = clientId;
        this.dataPath = dataPath;
        this.servers = servers;
        this.services = services;

        Receive<RegisterTick>(_ =>
        {
            servers.Tell(new RegisterClient(jobId, clientId, Self));
            if (!registered) ScheduleRegistration();
        });
        Receive<ClientRegistered>(r =>
        {
            // The job paces heartbeats by its size; never faster than this node's own heartbeat setting.
            var period = r.Heartbeat > services.Timeouts.ClientHeartbeat ? r.Heartbeat : services.Timeouts.ClientHeartbeat;
            if (registered && period == heartbeat) return;
            registered = true;
            heartbeat = period;
            Timers.StartPeriodicTimer("register", RegisterTick.Instance, period * (0.9 + 0.2 * Random.Shared.NextDouble()), period);
        });
        Receive<TrainRound>(OnTask);
        Receive<SlmFetched>(f =>
        {
            if (current != f.Task) return;
            var moved = Reported(f.Task.Round, Rounds.ClientTransfer.GlobalSlm, f.Task.GlobalSlm, always: false);
            if (f.Task.Spec is { } spec) moved += Reported(f.Task.Round, Rounds.ClientTransfer.Definition, spec, always: false);
            FederationMetrics.ClientBytes(jobId, clientId, TransferDirection.Received, moved);
            var request = new StepRequest(jobId, f.Task.Round, RoundPhase.ClientsTraining, [f.Task.GlobalSlm], f.Task.Seed, clientId)
            {
                Operation = Strategies.Operations.TrainSlm,
                Spec = f.Task.Spec,
            };
            worker.Tell(new TrainingWorker.RunStep(request, dataPath));
        });
        Receive<SlmFetchFailed>(f => Fail(f.Task, $"fetching the global SLM adapter {f.Task.GlobalSlm} failed: {f.Error}"));
        Receive<RetryTask>(r =>
        {
            if (current == r.Task) Start(r.Task);
        });
        Receive<TrainingWorker.StepSucceeded>(s =>
        {
            if (s.Request.SecAgg is not null) OnSecAggStepDone(s);
            else OnTrained(s);
        });
        Receive<TrainingWorker.StepFailed>(f =>
        {
            if (f.Request.SecAgg is not null)
            {
                if (secAggCurrent is { } t && KeyOf(t.Request) == KeyOf(f.Request)) SecAggFail(t, f.Error);
            }
            else if (current is { } task && task.Round == f.Request.Round) Fail(task, f.Error);
        });
        Receive<SecAggTask>(OnSecAggTask);
        Receive<SecAggInputsReady>(r =>
        {
            if (secAggCurrent != r.Task) return;
            var moved = r.Task.Request.Inputs.Distinct().Sum(b => Reported(r.Task.Request.Round, Rounds.ClientTransfer.SecAggInputs(r.Task.Request.SecAgg!.Step), b, always: false));
            if (r.Task.Request.Spec is { } spec) moved += Reported(r.Task.Request.Round, Rounds.ClientTransfer.Definition, spec, always: false);
            FederationMetrics.ClientBytes(jobId, clientId, TransferDirection.Received, moved);
            worker.Tell(new TrainingWorker.RunStep(r.Task.Request, dataPath));
        });
        Receive<SecAggInputsFailed>(f => SecAggFail(f.Task, $"fetching the inputs of {f.Task.Request.Operation} failed: {f.Error}"));
        Receive<SecAggRetry>(r =>
        {
            if (secAggCurrent == r.Task) StartSecAgg(r.Task);
        });
        Receive<SecAggResend>(t =>
        {
            if (secAggSent.TryGetValue(t.Key, out var message)) servers.Tell(message);
            else Timers.Cancel("secagg-resend-" + t.Key);
        });
        Receive<SecAggAcknowledged>(ack =>
        {
            var key = $"{ack.Round}/{ack.Attempt}/{ack.Step}";
            Timers.Cancel("secagg-resend-" + key);
            if (ack.Outcome == Outcome.Rejected)
                log.Error("Client {ClientId}: secure-aggregation step {Step} of round {Round} attempt {Attempt} refused: {Detail}", clientId, ack.Step, ack.Round, ack.Attempt, ack.Detail);
        });
        Receive<TrainingWorker.StepProgressed>(p => servers.Tell(new ReportProgress(jobId,
            new LiveProgress(clientId, p.Request.Round, RoundPhase.ClientsTraining, p.Progress.Step, p.Progress.TotalSteps, p.Progress.Loss))));
        Receive<ResendTick>(t =>
        {
            if (!finished.TryGetValue(t.Round, out var done)) return;
            servers.Tell(done.Update);
            ScheduleResend(t.Round, t.After * 2);
        });
        Receive<UpdateAcknowledged>(ack =>
        {
            Timers.Cancel($"resend-{ack.Round}");
            if (ack.Outcome == Outcome.Rejected) log.Error("Client {ClientId}: round {Round} update refused: {Detail}", clientId, ack.Round, ack.Detail);
        });
        Receive<JobEnded>(ended =>
        {
            Context.Parent.Tell(ended);
            End(ended.Phase);
        });
        Receive<Finish>(_ => End(RoundPhase.Completed));
        Receive<FinishNow>(_ =>
        {
            log.Warning("Client {ClientId}: job {JobId} ended; stopping with {Count} download report(s) unacknowledged or fetches unfinished after {Grace}",
                clientId, jobId, unacknowledged.Count + prefetching.Count, FinalReportGrace);
            Context.Stop(Self);
        });
        Receive<GlobalSlmReady>(ready =>
        {
            // Prefetch, so the next round starts without waiting for the transfer (and, after the last round, the job's final
            // download, as a deployed client takes the distilled adapter home); failures surface at the next task.
            var key = $"{ready.Round}/{ready.Slm.Sha256}";
            if (!prefetching.Add(key)) return;
            Fetch(ready.Round, Rounds.ClientTransfer.Broadcast, ready.Slm, ready.Holder).PipeTo(Self,
                success: _ => new Prefetched(ready, null),
                failure: e => new Prefetched(ready, e.Message));
        });
        Receive<Prefetched>(p =>
        {
            prefetching.Remove($"{p.Ready.Round}/{p.Ready.Slm.Sha256}");
            if (p.Error is not null) log.Warning("Prefetch of {0} failed: {1}", p.Ready.Slm, p.Error);
            // Reported only when bytes moved, except the final download: silos sharing a node's store fetch the adapter
            // once, and an event per silo that moved nothing would grow every round's journal by the number of clients;
            // the final one is reported by every client so the job's report knows when all of them have it.
            var moved = Reported(p.Ready.Round, Rounds.ClientTransfer.Broadcast, p.Ready.Slm, always: p.Ready.Final);
            FederationMetrics.ClientBytes(jobId, clientId, TransferDirection.Received, moved);
            StopIfEnded();
        });
        Receive<DownloadResend>(r =>
        {
            if (unacknowledged.Count == 0) return;
            foreach (var report in unacknowledged.Values) servers.Tell(report);
            ScheduleDownloadResend(r.After * 2);
        });
        Receive<DownloadAcknowledged>(ack =>
        {
            unacknowledged.Remove(DownloadKey(ack.Round, ack.What, ack.Blob));
            if (ack.Outcome == Outcome.Rejected)
                log.Error("Client {ClientId}: download report of {What} in round {Round} refused: {Detail}", clientId, ack.What, ack.Round, ack.Detail);
            StopIfEnded();
        });
    }

    static string DownloadKey(int round, string what, Blobs.BlobRef blob) => $"{round}/{what}/{blob.Sha256}";

    /// <summary>Makes <paramref name="blob"/> local, counting what moves into the tally of (round, what, blob).</summary>
    Task<Blobs.BlobRef> Fetch(int round, string what, Blobs.BlobRef blob, string holder)
    {
        var key = DownloadKey(round, what, blob);
        if (!tallies.TryGetValue(key, out var tally)) tallies[key] = tally = new Blobs.TransferTally();
        return services.Blobs.EnsureLocalAsync(Context.System, blob, holder, tally: tally);
    }

    /// <summary>Reports to the job what fetching (round, what, blob) moved, resent until acknowledged; returns the bytes.
    /// A fetch that moved nothing is reported only when <paramref name="always"/>.</summary>
    long Reported(int round, string what, Blobs.BlobRef blob, bool always)
    {
        var key = DownloadKey(round, what, blob);
        var count = tallies.Remove(key, out var tally) ? tally.Count() : Blobs.TransferCount.None;
        if (count.Transfers == 0 && !always) return 0;
        var report = new ReportDownload(jobId, round, clientId, what, blob, count);
        unacknowledged[key] = report;
        servers.Tell(report);
        if (!Timers.IsTimerActive("download-resend"))
            ScheduleDownloadResend(services.Timeouts.ClientResend);
        return count.Bytes;
    }

    /// <summary>The job ended: stop, once the final adapter's fetch and the download reports are done (at most
    /// <see cref="FinalReportGrace"/> later).</summary>
    void End(RoundPhase phase)
    {
        if (ending is null)
            log.Info("Client {ClientId}: job {JobId} ended ({Phase}); stopping its work", clientId, jobId, phase);
        ending ??= phase;
        if (!StopIfEnded() && !Timers.IsTimerActive("finish")) Timers.StartSingleTimer("finish", FinishNow.Instance, FinalReportGrace);
    }

    bool StopIfEnded()
    {
        if (ending is null || prefetching.Count > 0 || unacknowledged.Count > 0) return false;
        Context.Stop(Self);
        return true;
    }

    protected override void PreStart()
    {
        worker = Context.ActorOf(TrainingWorker.Props(services.Runner), "worker");
        registerDelay = services.Timeouts.ClientRegister;
        Self.Tell(RegisterTick.Instance);
    }

    /// <summary>The next registration attempt while none was answered: the delay doubles up to the heartbeat period, with
    /// ±20 % jitter, so thousands of silos that start together (a node of many silos, a job enrolling them all) do not
    /// all resend every second while the job's entity is still being located.</summary>
    void ScheduleRegistration()
    {
        Timers.StartSingleTimer("register", RegisterTick.Instance, Jittered(registerDelay));
        var doubled = registerDelay * 2;
        registerDelay = doubled < services.Timeouts.ClientHeartbeat ? doubled : services.Timeouts.ClientHeartbeat;
    }

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(maxNrOfRetries: -1, withinTimeRange: Timeout.InfiniteTimeSpan, _ => Directive.Restart);

    void OnTask(TrainRound task)
    {
        if (finished.TryGetValue(task.Round, out var done) && done.From == task.GlobalSlm)
        {
            // The same adapter for a new attempt of the round: the signature names the attempt, so sign it again.
            if (done.Update.Attempt != task.Attempt)
                finished[task.Round] = done = (done.From, Signed(done.Update with { Attempt = task.Attempt }));
            servers.Tell(done.Update);
            return;
        }
        if (current is not null && current.Round == task.Round && current.Attempt == task.Attempt && current.GlobalSlm == task.GlobalSlm)
        {
            // The job moved to another server node, which resends the task naming itself as the holder: a fetch still
            // retrying against the dead one would never succeed (chaos runs: the job host killed while serving this
            // adapter stalled the round until the deadline).
            if (current.Holder != task.Holder && !services.Store.Contains(task.GlobalSlm))
            {
                Timers.Cancel("retry");
                Start(task);
            }
            return;
        }
        failedAttempts = 0;
        Start(task);
    }

    void Start(TrainRound task)
    {
        current = task;
        // The adapter to start from and the job definition the step obeys.
        var fetches = new List<Task<Blobs.BlobRef>> { Fetch(task.Round, Rounds.ClientTransfer.GlobalSlm, task.GlobalSlm, task.Holder) };
        if (task.Spec is { } spec) fetches.Add(Fetch(task.Round, Rounds.ClientTransfer.Definition, spec, task.Holder));
        Task.WhenAll(fetches).PipeTo(Self,
            success: _ => new SlmFetched(task),
            failure: e => new SlmFetchFailed(task, e.Message));
    }

    void OnTrained(TrainingWorker.StepSucceeded s)
    {
        if (current is not { } task || task.Round != s.Request.Round) return;
        var loss = s.Result.Metrics.TryGetValue("train_loss", out var l) ? l : double.NaN;
        var update = Signed(new SubmitClientUpdate(jobId, task.Round, clientId, s.Result.Outputs[0], s.Result.SampleCount, loss, services.BlobServerPath, task.Attempt));
        foreach (var old in finished.Keys.Where(r => r < task.Round - 1).ToList()) finished.Remove(old);
        finished[task.Round] = (task.GlobalSlm, update);
        servers.Tell(update);
        FederationMetrics.ClientBytes(jobId, clientId, TransferDirection.Sent, update.Update.Size);
        ScheduleResend(task.Round, services.Timeouts.ClientResend);
    }

    /// <summary>The next resend of the round's unacknowledged update: doubling from client-resend up to 8× it, jittered
    /// ±20 %. A job busy with thousands of updates is not asked again every few seconds by each client; a lost update
    /// is also re-asked for by the job itself, which resends the task on the client's next heartbeat.</summary>
    void ScheduleResend(int round, TimeSpan after)
    {
        after = Backoff(after);
        Timers.StartSingleTimer($"resend-{round}", new ResendTick(round, after), Jittered(after));
    }

    /// <summary>The next resend of the unacknowledged download reports, backing off as <see cref="ScheduleResend"/>.</summary>
    void ScheduleDownloadResend(TimeSpan after)
    {
        after = Backoff(after);
        Timers.StartSingleTimer("download-resend", new DownloadResend(after), Jittered(after));
    }

    /// <summary>A resend interval capped at 8× client-resend (updates and download reports back off alike).</summary>
    TimeSpan Backoff(TimeSpan after) => after < services.Timeouts.ClientResend * 8 ? after : services.Timeouts.ClientResend * 8;

    /// <summary>±20 %, so that silos started together (registrations, resends) do not all fire in the same instant.</summary>
    static TimeSpan Jittered(TimeSpan after) => after * (0.8 + 0.4 * Random.Shared.NextDouble());

    SubmitClientUpdate Signed(SubmitClientUpdate u) => u with
    {
        Signature = signer?.Sign(new Identity.UpdateStatement(u.JobId, u.Round, u.Attempt, u.ClientId, u.Update, u.SampleCount)),
    };

    static string KeyOf(StepRequest r) => $"{r.Round}/{r.SecAgg!.Attempt}/{r.SecAgg.Step}";

    void OnSecAggTask(SecAggTask task)
    {
        if (task.Request.SecAgg is null || task.Request.ClientId != clientId || !SecAggOperations.IsClientStep(task.Request.Operation))
        {
            log.Error("Client {ClientId}: refused a secure-aggregation task that is not a client step for this client: {Request}", clientId, task.Request);
            return;
        }
        var key = KeyOf(task.Request);
        if (secAggSent.TryGetValue(key, out var sent))
        {
            servers.Tell(sent);
            return;
        }
        if (secAggCurrent is { } running && KeyOf(running.Request) == key)
        {
            // Resent by a server node the job moved to: fetch from it instead of the old one.
            if (running.Holder != task.Holder) StartSecAgg(task);
            return;
        }
        secAggFailures = 0;
        StartSecAgg(task);
    }

    void StartSecAgg(SecAggTask task)
    {
        secAggCurrent = task;
        var step = task.Request.SecAgg!.Step;
        var fetches = task.Request.Inputs.Distinct().Select(b => Fetch(task.Request.Round, Rounds.ClientTransfer.SecAggInputs(step), b, task.Holder)).ToList();
        if (task.Request.Spec is { } spec) fetches.Add(Fetch(task.Request.Round, Rounds.ClientTransfer.Definition, spec, task.Holder));
        Task.WhenAll(fetches).PipeTo(Self,
            success: _ => new SecAggInputsReady(task),
            failure: e => new SecAggInputsFailed(task, e.Message));
    }

    void OnSecAggStepDone(TrainingWorker.StepSucceeded s)
    {
        var spec = s.Request.SecAgg!;
        var key = KeyOf(s.Request);
        var message = new SubmitSecAggStep(jobId, s.Request.Round, spec.Attempt, spec.Step, clientId, s.Result.Outputs[0], services.BlobServerPath);
        foreach (var old in secAggSent.Keys.Where(k => k != key).ToList()) secAggSent.Remove(old);
        secAggSent[key] = message;
        servers.Tell(message);
        FederationMetrics.ClientBytes(jobId, clientId, TransferDirection.Sent, message.Message.Size);
        Timers.StartPeriodicTimer("secagg-resend-" + key, new SecAggResend(key), services.Timeouts.ClientResend);
        // A newer step arrived while the worker was busy with this one: run it now.
        if (secAggCurrent is { } next && KeyOf(next.Request) != key) StartSecAgg(next);
        else secAggCurrent = null;
    }

    void SecAggFail(SecAggTask task, string error)
    {
        secAggFailures++;
        var delay = services.Retries.DelayAfter(secAggFailures);
        log.Warning("Client {ClientId}: secure-aggregation {Operation} of round {Round} failed (attempt {Attempt}), retrying in {Delay}: {Error}",
            clientId, task.Request.Operation, task.Request.Round, secAggFailures, delay, error);
        Timers.StartSingleTimer("secagg-retry", new SecAggRetry(task), delay);
    }

    void Fail(TrainRound task, string error)
    {
        failedAttempts++;
        var delay = services.Retries.DelayAfter(failedAttempts);
        // A client keeps retrying: giving up is the server's call (its deadline), not the client's.
        log.Warning("Client {ClientId}: round {Round} failed (attempt {Attempt}), retrying in {Delay}: {Error}", clientId, task.Round, failedAttempts, delay, error);
        Timers.StartSingleTimer("retry", new RetryTask(task), delay);
    }
}

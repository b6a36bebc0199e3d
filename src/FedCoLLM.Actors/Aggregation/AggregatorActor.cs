using Akka.Actor;
using Akka.Event;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Actors.Aggregation;

/// <summary>
/// FedAvg for one job, as a sharded entity on aggregator-role nodes. It keeps no journal because it needs
/// none: aggregation is a pure function of the input refs and sample counts, so a request asked again
/// (after a crash of either side) yields the same output ref. Inputs are fetched from the requester's blob
/// server and verified by hash before the worker reads them.
/// </summary>
public sealed class AggregatorActor : ReceiveActor
{
    public static Props Props(NodeServices services) => Akka.Actor.Props.Create(() => new AggregatorActor(services));

    sealed record InputsReady(AggregateUpdates Request) : INoSerializationVerificationNeeded;
    sealed record InputsFailed(AggregateUpdates Request, string Error) : INoSerializationVerificationNeeded;

    readonly NodeServices services;
    readonly ILoggingAdapter log = Context.GetLogger();
    readonly List<IActorRef> waiting = [];
    IActorRef worker = ActorRefs.Nobody;
    string? runningKey;
    // The holders the running request's inputs are being fetched from, and whether one fetch has finished (the step
    // then runs once). A job entity that moved asks again naming its new host; the fetch from the dead one would only
    // fail after its timeout (30 s), so the new holder is fetched from at once, alongside.
    readonly HashSet<string> holders = new(StringComparer.Ordinal);
    bool inputsReady;
    (string Key, Aggregated Reply)? last;

    public AggregatorActor(NodeServices services)
    {
        this.services = services;
        Receive<AggregateUpdates>(request =>
        {
            var key = KeyOf(request.Request);
            if (last is { } done && done.Key == key)
            {
                Sender.Tell(done.Reply);
                return;
            }
            Sender.Tell(new AggregationStarted(request.JobId, request.Request));
            if (!waiting.Contains(Sender)) waiting.Add(Sender);
            if (runningKey != key)
            {
                runningKey = key;
                holders.Clear();
                inputsReady = false;
            }
            if (!inputsReady && holders.Add(request.Holder)) FetchInputs(request);
        });
        Receive<InputsReady>(r =>
        {
            if (runningKey != KeyOf(r.Request.Request) || inputsReady) return;
            inputsReady = true;
            worker.Tell(new TrainingWorker.RunStep(r.Request.Request));
        });
        Receive<InputsFailed>(f =>
        {
            // Only when every holder asked of has failed: another may still deliver.
            if (runningKey != KeyOf(f.Request.Request) || inputsReady || !holders.Remove(f.Request.Holder) || holders.Count > 0) return;
            Reply(f.Request.Request, new AggregationFailed(f.Request.JobId, f.Request.Request, f.Error));
        });
        Receive<TrainingWorker.StepSucceeded>(s =>
        {
            var reply = new Aggregated(s.Request.JobId, s.Request, s.Result, services.BlobServerPath);
            last = (KeyOf(s.Request), reply);
            Reply(s.Request, reply);
        });
        Receive<TrainingWorker.StepFailed>(f => Reply(f.Request, new AggregationFailed(f.Request.JobId, f.Request, f.Error)));
        Receive<TrainingWorker.StepProgressed>(_ => { });
    }

    protected override void PreStart() => worker = Context.ActorOf(TrainingWorker.Props(services.Runner), "worker");

    /// <summary>Only the job entities on server members may ask for aggregation (<see cref="Identity.TrustBoundary"/>).</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        if (Identity.TrustBoundary.Refusal(Context.System, message, Sender) is not { } refusal) return base.AroundReceive(receive, message);
        log.Warning("{0}", refusal);
        return true;
    }

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(maxNrOfRetries: -1, withinTimeRange: Timeout.InfiniteTimeSpan, _ => Directive.Restart);

    /// <summary>Fetches the request's inputs and the job definition the step obeys from the request's holder.</summary>
    void FetchInputs(AggregateUpdates request)
    {
        var blobs = request.Request.Spec is { } spec ? request.Request.Inputs.Append(spec) : request.Request.Inputs;
        Task.WhenAll(blobs.Select(i => services.Blobs.EnsureLocalAsync(Context.System, i, request.Holder)))
            .PipeTo(Self, success: () => new InputsReady(request), failure: e => new InputsFailed(request, e.Message));
    }

    void Reply(StepRequest request, object reply)
    {
        if (runningKey != KeyOf(request)) return;
        runningKey = null;
        if (reply is AggregationFailed f) log.Warning("Aggregation {0} failed: {1}", request, f.Error);
        foreach (var w in waiting) w.Tell(reply);
        waiting.Clear();
    }

    static string KeyOf(StepRequest r) =>
        $"{r.JobId}/{r.Round}/{string.Join(",", r.Inputs.Select(i => i.Sha256))}/{string.Join(",", r.SampleCounts ?? [])}";
}

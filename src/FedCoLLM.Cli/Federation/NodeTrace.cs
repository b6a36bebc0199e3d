using Akka.Actor;
using Akka.Cluster;
using FedCoLLM.Actors.Server;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// One line per step a node's worker starts and ends, and per blob it starts serving: what an operator tails in
/// a node's log, and what <c>fedcollm chaos</c> reads to kill a node in the middle of training or of a transfer.
/// </summary>
public static class NodeTrace
{
    public const string StepStarted = "step started:";
    public const string StepFinished = "step finished:";
    /// <summary>A training step whose first optimizer step came from a checkpoint a killed run left (Workers/StepCheckpoints.cs),
    /// told by its first progress report being past step 1; one resumed from a checkpoint of its last step trains no
    /// further step, reports nothing and so prints no such line.</summary>
    public const string StepResumed = "step resumed:";
    public const string Serving = "serving blob";
    // Membership and job-entity lines: `fedcollm bench failover` splits a failover into its parts by them.
    public const string Joined = "joined the cluster";
    public const string Unreachable = "member unreachable:";
    public const string Downed = "member downed:";
    public const string Removed = "member removed:";
    public const string EntityStarted = "job entity started:";
    public const string EntityRecovered = "job entity recovered:";

    static void Line(string text) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss.fff}] {text}");

    /// <summary>Wraps a step runner so each step is announced before and after it runs.</summary>
    public static IStepRunner Steps(IStepRunner inner) => new TracingStepRunner(inner);

    /// <summary>Prints each <see cref="BlobServing"/> this node's blob server publishes.</summary>
    public static void Transfers(ActorSystem system)
    {
        var printer = system.ActorOf(Props.Create(() => new TransferPrinter()), "trace-transfers");
        system.EventStream.Subscribe(printer, typeof(BlobServing));
    }

    /// <summary>Prints what this node sees of other members becoming unreachable, downed and removed, and each job
    /// entity starting and ending its journal replay here.</summary>
    public static void Membership(ActorSystem system)
    {
        var printer = system.ActorOf(Props.Create(() => new MembershipPrinter()), "trace-membership");
        Cluster.Get(system).Subscribe(printer, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.MemberDowned), typeof(ClusterEvent.MemberRemoved));
        system.EventStream.Subscribe(printer, typeof(JobEntityStarted));
        system.EventStream.Subscribe(printer, typeof(JobEntityRecovered));
    }

    sealed class MembershipPrinter : ReceiveActor
    {
        public MembershipPrinter()
        {
            Receive<ClusterEvent.UnreachableMember>(e => Line($"{Unreachable} {e.Member.UniqueAddress}"));
            Receive<ClusterEvent.MemberDowned>(e => Line($"{Downed} {e.Member.UniqueAddress}"));
            Receive<ClusterEvent.MemberRemoved>(e => Line($"{Removed} {e.Member.UniqueAddress} (was {e.PreviousStatus})"));
            Receive<JobEntityStarted>(e => Line($"{EntityStarted} {e.JobId}"));
            Receive<JobEntityRecovered>(e => Line($"{EntityRecovered} {e.JobId} at round {e.Round} {e.Phase} ({e.Events} events replayed)"));
        }
    }

    sealed class TracingStepRunner(IStepRunner inner) : IStepRunner
    {
        public StepResult Run(StepRequest request, string? dataPath, IProgress<StepProgress> progress, CancellationToken cancellation)
        {
            // A secure-aggregation step names its operation and attempt: chaos kills a client mid-protocol by them.
            var secAgg = request.SecAgg is { } sa ? $" {request.Operation} attempt {sa.Attempt}" : "";
            var name = $"round {request.Round} {request.Phase}{(request.ClientId is null ? "" : " " + request.ClientId)}{secAgg} · job {request.JobId} spec {request.Spec?.Sha256[..12] ?? "none"}";
            Line($"{StepStarted} {name}");
            var first = true;
            var watched = new InlineProgress<StepProgress>(p =>
            {
                if (first && p.Step > 1) Line($"{StepResumed} {name} at optimizer step {p.Step} of {p.TotalSteps}, from its checkpoint");
                first = false;
                progress.Report(p);
            });
            var result = inner.Run(request, dataPath, watched, cancellation);
            Line($"{StepFinished} {name}");
            return result;
        }
    }

    sealed class TransferPrinter : ReceiveActor
    {
        public TransferPrinter() =>
            Receive<BlobServing>(s => Line($"{Serving} {s.Blob.Sha256[..12]} ({s.Blob.Size:N0} bytes) to {s.Requester}"));
    }
}

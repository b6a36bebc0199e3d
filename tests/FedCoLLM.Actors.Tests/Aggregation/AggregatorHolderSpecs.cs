using Akka.Actor;
using Akka.TestKit.Xunit;
using FedCoLLM.Actors.Aggregation;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Tests.Blobs;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Actors.Tests.Aggregation;

/// <summary>
/// The job's host was killed just after asking for the aggregation (found by `fedcollm bench failover`: the aggregator
/// kept fetching the updates from the dead host until its 30 s fetch timeout, and the job waited). The job's new host
/// asks again naming itself as the holder; the aggregator must fetch from there at once and aggregate once.
/// </summary>
public sealed class AggregatorHolderSpecs() : TestKit(Akka.Configuration.ConfigurationFactory.ParseString("""
    akka.actor.provider = cluster
    akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
    # Only members with the server role may ask for aggregation (Identity/TrustBoundary.cs): this test plays one.
    akka.cluster.roles = [server, aggregator]
    """))
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    sealed class CountingRunner(IBlobStore store) : IStepRunner
    {
        public int Runs;

        public StepResult Run(StepRequest request, string? dataPath, IProgress<StepProgress> progress, CancellationToken cancellation)
        {
            Interlocked.Increment(ref Runs);
            var sum = request.Inputs.SelectMany(store.Read).ToArray();
            return new([store.Put(sum)], new Dictionary<string, double>(), SampleCount: 0);
        }
    }

    [Fact]
    public void A_request_resent_by_a_new_holder_is_fetched_from_it_at_once_and_aggregated_once()
    {
        using var root = new TempDirectory();
        var hostStore = new DirectoryBlobStore(Path.Combine(root.Path, "new-host"));
        var updates = new[] { hostStore.Put([1, 2, 3]), hostStore.Put([4, 5, 6, 7]) };
        Sys.ActorOf(BlobServerActor.Props(hostStore), "new-host-blobs");
        var newHolder = "akka://" + Sys.Name + "/user/new-host-blobs";
        var deadHolder = "akka://" + Sys.Name + "/user/dead-host-blobs";

        var store = new DirectoryBlobStore(Path.Combine(root.Path, "aggregator"));
        // The dead holder's fetch would fail only after this; the test ends long before it.
        var timeouts = new ProtocolTimeouts { BlobFetch = TimeSpan.FromMinutes(5) };
        var runner = new CountingRunner(store);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(new NodeServices(
            new BlobCustody(store, "akka://" + Sys.Name + "/user/aggregator-blobs", timeouts), runner, timeouts)));
        var request = new StepRequest("job", 1, RoundPhase.Aggregating, updates, Seed: 7, SampleCounts: [3, 4]) { Operation = "fedavg" };

        var oldHost = CreateTestProbe();
        aggregator.Tell(new AggregateUpdates("job", request, deadHolder), oldHost.Ref);
        oldHost.ExpectMsg<AggregationStarted>(cancellationToken: Ct);
        oldHost.ExpectNoMsg(TimeSpan.FromSeconds(1), Ct); // the dead holder never answers

        var newHost = CreateTestProbe();
        aggregator.Tell(new AggregateUpdates("job", request, newHolder), newHost.Ref);
        newHost.ExpectMsg<AggregationStarted>(cancellationToken: Ct);
        var done = newHost.ExpectMsg<Aggregated>(TimeSpan.FromSeconds(10), cancellationToken: Ct);

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7 }, store.Read(done.Result.Outputs[0]));
        Assert.Equal(1, runner.Runs);
        // Asked a third time (the new host's resend), it answers from the finished result without running again.
        aggregator.Tell(new AggregateUpdates("job", request, newHolder), newHost.Ref);
        Assert.Equal(done.Result.Outputs[0], newHost.ExpectMsg<Aggregated>(cancellationToken: Ct).Result.Outputs[0]);
        Assert.Equal(1, runner.Runs);
    }
}

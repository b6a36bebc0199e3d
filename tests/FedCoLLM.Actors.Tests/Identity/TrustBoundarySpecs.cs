using Akka.Actor;
using Akka.Event;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Tests.Actors;
using FedCoLLM.Actors.Tests.Partitions;

namespace FedCoLLM.Actors.Tests.Identity;

/// <summary>
/// The trust boundary between client silos and the server side, across real ActorSystems joined over remoting: a
/// server node, an aggregator node and a client node. The client node tries what a compromised silo would — cancel the
/// job, and complete the aggregation step with an aggregate of its own — and is refused, with nothing journaled; the
/// aggregator node's genuine result (also from another member) is accepted.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class TrustBoundarySpecs
{
    /// <summary>An actor on the client node that asks the job entity for its status and keeps the entity's ref from the reply.</summary>
    sealed class Spy : ReceiveActor
    {
        public Spy(IActorRef region, string jobId, TaskCompletionSource<(IActorRef Entity, JobStatus Status)> found)
        {
            Receive<JobStatus>(s => found.TrySetResult((Sender, s)));
            Receive<JobAccepted>(_ => { });
            region.Tell(new GetJobStatus(jobId));
        }
    }

    /// <summary>Collects the server side's warnings (the trust boundary logs each refusal).</summary>
    sealed class Warnings : ReceiveActor
    {
        public Warnings(System.Collections.Concurrent.ConcurrentQueue<string> seen) =>
            Receive<Warning>(w => seen.Enqueue(w.Message?.ToString() ?? ""));
    }

    [Fact]
    public async Task A_client_node_that_sends_a_server_internal_command_is_refused_and_nothing_is_journaled()
    {
        const string job = "boundary";
        using var run = new RunDirectory();
        await using var cluster = new PartitionCluster(run, job, stableAfter: TimeSpan.FromSeconds(3));
        GatedRunner aggregatorRunner = null!;
        var server = await cluster.Start("s1", ["server"]);
        var aggregator = await cluster.Start("a1", ["aggregator"], wrap: r => aggregatorRunner = new GatedRunner(r).Hold(RoundPhase.Aggregating));
        var client = await cluster.Start("c1", ["client"], ["noun.animal"]);
        foreach (var node in cluster.Nodes)
            await Eventually.Until(() => node.UpMembers().Count == 3, TimeSpan.FromSeconds(30), $"{node.Name} to see every node Up");
        var refusals = new System.Collections.Concurrent.ConcurrentQueue<string>();
        foreach (var node in new[] { server, aggregator })
            node.System.EventStream.Subscribe(node.System.ActorOf(Props.Create(() => new Warnings(refusals))), typeof(Warning));

        var accepted = await server.Node.Servers.Ask<JobAccepted>(new StartFederation(job, Tiny.Spec(job, ["noun.animal"])), TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(Outcome.Accepted, accepted.Outcome);

        // 1. An operator command from the client node: refused with the reason, not journaled.
        var cancel = await client.Node.Servers.Ask<JobAccepted>(new CancelFederation(job, "a hostile silo"), TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(Outcome.Rejected, cancel.Outcome);
        Assert.Contains("a client silo may not start or cancel jobs", cancel.Detail);

        // 2. The aggregation step, completed by the client node while the real aggregator works on it.
        await Eventually.Until(() => aggregatorRunner.Started.Contains((RoundPhase.Aggregating, 1)), TimeSpan.FromMinutes(2), "the aggregator to start round 1's FedAvg");
        var found = new TaskCompletionSource<(IActorRef Entity, JobStatus Status)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var spy = client.System.ActorOf(Props.Create(() => new Spy(client.Node.Servers, job, found)));
        var (entity, status) = await found.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.True(entity.Path.Address.HasGlobalScope, "the job entity lives on another node");
        var request = Assert.IsType<RunAggregation>(status.State.NextWork()).Request; // what the server waits for, as the journal says
        var forged = client.Node.Services.Store.Put("an aggregate of the client's choosing"u8.ToArray());
        entity.Tell(new Aggregated(job, request, new StepResult([forged], new Dictionary<string, double>()), client.Node.Services.BlobServerPath), spy);
        entity.Tell(new AggregationFailed(job, request, "forged failure"), spy);

        // Accepted, the forged aggregate would be fetched (a few bytes over loopback) and journaled within milliseconds.
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        var events = await server.JournalEvents(job);
        Assert.DoesNotContain(events, e => e is PhaseCompleted p && p.Phase == RoundPhase.Aggregating || e is JobCancelled or JobFailed);
        await Eventually.Until(() => refusals.Count(r => r.Contains("from " + client.Address) && r.Contains("only members with role aggregator")) >= 2,
            TimeSpan.FromSeconds(30), "the job entity to log the refusal of both forged aggregator messages");

        // The genuine aggregator, on its own member, still completes the step.
        aggregatorRunner.Release();
        var done = await Eventually.Until(() => server.JournalEvents(job), es => es.OfType<PhaseCompleted>().Any(p => p.Phase == RoundPhase.Aggregating),
            TimeSpan.FromMinutes(2), es => $"the aggregation to complete; journal: {string.Join(", ", es.Select(e => e.GetType().Name))}");
        Assert.NotEqual(forged, done.OfType<PhaseCompleted>().Single(p => p.Phase == RoundPhase.Aggregating).Output);
        Assert.DoesNotContain(done, e => e is JobCancelled);
    }
}

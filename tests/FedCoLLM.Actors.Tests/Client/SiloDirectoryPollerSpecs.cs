using Akka.Actor;
using Akka.TestKit.Xunit;
using FedCoLLM.Actors.Client;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Server;

namespace FedCoLLM.Actors.Tests.Client;

/// <summary>
/// A node's silos learn their jobs through one poller that asks the real job directory in batches: 450 silos cost three
/// queries per poll, not 450 (at 10,000 silos per node the per-silo polls flooded the server node; docs/benchmarks.md).
/// </summary>
public sealed class SiloDirectoryPollerSpecs() : TestKit(Akka.Configuration.ConfigurationFactory.ParseString("""
    akka.actor.provider = cluster
    akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
    # The directory lists only what members with the server role announce (Identity/TrustBoundary.cs): this test plays one.
    akka.cluster.roles = [server]
    """))
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void A_node_of_450_silos_asks_the_directory_in_three_queries_and_each_silo_learns_only_its_own_running_jobs()
    {
        var directory = Sys.ActorOf(JobDirectoryActor.Props(), "directory");
        foreach (var (job, enrolled) in new[] { ("job-a", new[] { "silo-000", "silo-001" }), ("job-b", ["silo-001", "silo-449"]), ("job-c", ["silo-000"]) })
        {
            directory.Tell(new ListJob(job, enrolled), TestActor);
            ExpectMsg<JobListed>(cancellationToken: Ct);
        }
        directory.Tell(new DelistJob("job-c", "Completed"), TestActor);
        ExpectMsg<JobDelisted>(cancellationToken: Ct);

        var watched = new[] { "silo-000", "silo-001", "silo-200", "silo-449" }.ToDictionary(id => id, _ => CreateTestProbe());
        var silos = Enumerable.Range(0, 450).Select(i => $"silo-{i:D3}")
            .ToDictionary(id => id, id => watched.TryGetValue(id, out var probe) ? probe.Ref : ActorRefs.Nobody);
        var link = CreateTestProbe(); // between the poller and the directory, to count the queries
        Sys.ActorOf(SiloDirectoryPoller.Props(link.Ref, silos, TimeSpan.FromHours(1)));

        var sizes = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            sizes.Add(link.ExpectMsg<JobsForClients>(cancellationToken: Ct).ClientIds.Count);
            link.Forward(directory);
        }
        link.ExpectNoMsg(TimeSpan.FromMilliseconds(300), Ct);
        Assert.Equal([200, 200, 50], sizes);

        Assert.Equal(["job-a"], watched["silo-000"].ExpectMsg<ClientJobs>(cancellationToken: Ct).JobIds); // job-c ended
        Assert.Equal(["job-a", "job-b"], watched["silo-001"].ExpectMsg<ClientJobs>(cancellationToken: Ct).JobIds);
        Assert.Empty(watched["silo-200"].ExpectMsg<ClientJobs>(cancellationToken: Ct).JobIds);
        Assert.Equal(["job-b"], watched["silo-449"].ExpectMsg<ClientJobs>(cancellationToken: Ct).JobIds);
    }
}

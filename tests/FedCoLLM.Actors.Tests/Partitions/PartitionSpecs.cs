using System.Diagnostics;
using Akka.Actor;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Tests.Actors;

namespace FedCoLLM.Actors.Tests.Partitions;

/// <summary>
/// Network partitions between in-process cluster nodes (throttler transport adapter blackholes), with the real
/// step runner on tiny settings and one shared SQLite journal. Keep-majority SBR scoped to the server role decides
/// who is downed; the job must end with every fact journaled exactly once.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class PartitionSpecs(ITestOutputHelper output)
{
    static readonly string[] Server = ["server", "aggregator"];
    static readonly string[] Client = ["client"];
    static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    static JobSpec Spec(string job, IReadOnlyList<string> clients) => Tiny.Spec(job, clients);

    void Log(Stopwatch clock, string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s  {what}");

    static async Task AllUp(PartitionCluster cluster)
    {
        var expected = cluster.Nodes.Select(n => n.Address).ToHashSet();
        foreach (var node in cluster.Nodes)
            await Eventually.Until(() => node.UpMembers().SetEquals(expected), TimeSpan.FromSeconds(30), $"{node.Name} to see every node Up");
    }

    static async Task<RoundState> WaitForStatus(ClusterNode via, string job, Func<RoundState, bool> done, TimeSpan within, string what) =>
        (await Eventually.Until(() => via.TryStatus(job), s => s is not null && done(s), within,
            s => $"{what}; last state: {(s is null ? "no answer" : $"round {s.Round} attempt {s.Attempt} {s.Phase} updates [{string.Join(",", s.Updates.Keys)}] ({s.FailureReason})")}"))!;

    static void AssertEachFactOnce(IReadOnlyList<IRoundEvent> events, IReadOnlyList<string> clients, bool fedCoLLM = true)
    {
        Assert.Single(events.OfType<JobStarted>());
        Assert.Single(events.OfType<AdaptersInitialized>());
        foreach (var client in clients)
            Assert.Single(events.OfType<ClientUpdateAccepted>(), u => u.ClientId == client && u.Round == 1);
        Assert.Empty(events.OfType<RoundAbandoned>());
        Assert.Empty(events.OfType<JobFailed>());
        foreach (var phase in new[] { RoundPhase.Aggregating, RoundPhase.LlmTeacherLogits, RoundPhase.SlmDistillation, RoundPhase.SlmTeacherLogits, RoundPhase.LlmDistillation })
            Assert.Single(events.OfType<PhaseCompleted>(), p => p.Phase == phase && p.Round == 1);
        Assert.Single(events.OfType<RoundCommitted>());
    }

    [Fact]
    public async Task A_partitioned_minority_server_is_downed_and_the_job_completes_on_the_majority()
    {
        const string job = "split";
        var clock = Stopwatch.StartNew();
        using var run = new RunDirectory();
        await using var cluster = new PartitionCluster(run, job, stableAfter: TimeSpan.FromSeconds(3));
        GatedRunner clientRunner = null!;
        var s1 = await cluster.Start("s1", Server);
        var s2 = await cluster.Start("s2", Server);
        var s3 = await cluster.Start("s3", Server);
        var c1 = await cluster.Start("c1", Client, ["noun.animal"], r => clientRunner = new GatedRunner(r).Hold(RoundPhase.ClientsTraining));
        await AllUp(cluster);
        Log(clock, "4 nodes up");

        var accepted = await c1.Node.Servers.Ask<JobAccepted>(new StartFederation(job, Spec(job, ["noun.animal"])), TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(Outcome.Accepted, accepted.Outcome);
        await WaitForStatus(c1, job, s => s.Phase == RoundPhase.ClientsTraining, Long, "round 1 to open");
        await Eventually.Until(() => clientRunner.Started.Contains((RoundPhase.ClientsTraining, 1)), TimeSpan.FromSeconds(30), "the client to start training");
        var host = await Eventually.Until(cluster.JobHost, h => h is not null, TimeSpan.FromSeconds(10), _ => "the job entity's host");
        var majority = cluster.Nodes.Where(n => n != host).ToArray();
        Log(clock, $"job runs on {host!.Name}; blackholing it from {string.Join(", ", majority.Select(n => n.Name))}");

        await cluster.Blackhole(host);
        clientRunner.Release(); // the update is sent while the job's host is cut off

        foreach (var node in majority)
            await Eventually.Until(() => !node.Cluster.State.Members.Any(m => m.Address == host.Address), TimeSpan.FromSeconds(45),
                $"{node.Name} to remove the partitioned {host.Name}");
        Log(clock, $"{host.Name} removed by the majority");
        await Eventually.Until(() => host.Terminated, TimeSpan.FromSeconds(45), $"the partitioned {host.Name} to down itself and terminate");
        Log(clock, $"{host.Name} terminated itself");

        var newHost = await Eventually.Until(cluster.JobHost, h => h is not null && h != host, TimeSpan.FromSeconds(45), _ => "the job entity to be recreated on a majority node");
        Log(clock, $"job entity recreated on {newHost!.Name}");

        var final = await WaitForStatus(c1, job, s => s.Phase is RoundPhase.Completed or RoundPhase.Failed, Long, "the job to end");
        Log(clock, $"job ended: {final.Phase} {final.FailureReason}");
        Assert.Equal(RoundPhase.Completed, final.Phase);
        AssertEachFactOnce(await newHost.JournalEvents(job), ["noun.animal"]);
    }
}

using System.Diagnostics;
using Akka.Actor;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;
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

        // Submitted from a server node: a client silo may not start jobs (the trust boundary, docs/security-identity.md).
        var accepted = await s1.Node.Servers.Ask<JobAccepted>(new StartFederation(job, Spec(job, ["noun.animal"])), TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
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

        var final = await WaitForStatus(c1, job, s => s.Phase.IsTerminal, Long, "the job to end");
        Log(clock, $"job ended: {final.Phase} {final.FailureReason}");
        Assert.Equal(RoundPhase.Completed, final.Phase);
        AssertEachFactOnce(await newHost.JournalEvents(job), ["noun.animal"]);
    }

    [Fact]
    public async Task A_client_cut_off_while_training_is_heard_again_after_the_link_heals_and_its_update_counts_once()
    {
        const string job = "heal";
        var clock = Stopwatch.StartNew();
        using var run = new RunDirectory();
        // stable-after far beyond the partition: the SBR must not act, so the same client incarnation comes back.
        await using var cluster = new PartitionCluster(run, job, stableAfter: TimeSpan.FromSeconds(30));
        GatedRunner clientRunner = null!;
        var s1 = await cluster.Start("s1", Server);
        var s2 = await cluster.Start("s2", Server);
        var c1 = await cluster.Start("c1", Client, ["noun.animal"], r => clientRunner = new GatedRunner(r).Hold(RoundPhase.ClientsTraining));
        await AllUp(cluster);
        Log(clock, "3 nodes up");

        var accepted = await s1.Node.Servers.Ask<JobAccepted>(new StartFederation(job, Spec(job, ["noun.animal"])), TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(Outcome.Accepted, accepted.Outcome);
        await WaitForStatus(s1, job, s => s.Phase == RoundPhase.ClientsTraining, Long, "round 1 to open");
        await Eventually.Until(() => clientRunner.Started.Contains((RoundPhase.ClientsTraining, 1)), TimeSpan.FromSeconds(30), "the client to start training");

        await cluster.Blackhole(c1);
        Log(clock, "c1 blackholed from s1, s2");
        clientRunner.Release();
        await Eventually.Until(() => clientRunner.Finished.Contains((RoundPhase.ClientsTraining, 1)), TimeSpan.FromSeconds(30), "the client to finish training");
        Log(clock, "c1 trained; its update goes nowhere");
        foreach (var server in new[] { s1, s2 })
            await Eventually.Until(() => server.Cluster.State.Unreachable.Any(m => m.Address == c1.Address), TimeSpan.FromSeconds(20),
                $"{server.Name} to see c1 unreachable");
        Log(clock, "s1 and s2 see c1 unreachable");
        var during = await WaitForStatus(s1, job, _ => true, TimeSpan.FromSeconds(10), "the job's status");
        Assert.Equal(RoundPhase.ClientsTraining, during.Phase);
        Assert.Empty(during.Updates); // nothing got through the blackhole

        await cluster.Heal(c1);
        Log(clock, "healed");
        var final = await WaitForStatus(s1, job, s => s.Phase.IsTerminal, Long, "the job to end");
        Log(clock, $"job ended: {final.Phase} {final.FailureReason}");
        Assert.Equal(RoundPhase.Completed, final.Phase);
        // The same incarnation came back: never downed, reachable again, trained once.
        Assert.False(c1.Terminated);
        foreach (var server in new[] { s1, s2 })
        {
            Assert.Contains(server.Cluster.State.Members, m => m.Address == c1.Address && m.Status == Akka.Cluster.MemberStatus.Up);
            await Eventually.Until(() => !server.Cluster.State.Unreachable.Any(), TimeSpan.FromSeconds(20), $"{server.Name} to see c1 reachable again");
        }
        Assert.Single(clientRunner.Finished, f => f == (RoundPhase.ClientsTraining, 1));
        AssertEachFactOnce(await s1.JournalEvents(job), ["noun.animal"]);
    }

    [Fact]
    public async Task A_client_cut_off_past_stable_after_is_downed_and_a_fresh_node_with_the_same_client_completes_the_round()
    {
        const string job = "rejoin";
        var clock = Stopwatch.StartNew();
        using var run = new RunDirectory();
        await using var cluster = new PartitionCluster(run, job, stableAfter: TimeSpan.FromSeconds(3));
        GatedRunner clientRunner = null!;
        var s1 = await cluster.Start("s1", Server);
        var s2 = await cluster.Start("s2", Server);
        var c1 = await cluster.Start("c1", Client, ["noun.animal"], r => clientRunner = new GatedRunner(r).Hold(RoundPhase.ClientsTraining));
        await AllUp(cluster);
        Log(clock, "3 nodes up");

        var accepted = await s1.Node.Servers.Ask<JobAccepted>(new StartFederation(job, Spec(job, ["noun.animal"])), TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(Outcome.Accepted, accepted.Outcome);
        await WaitForStatus(s1, job, s => s.Phase == RoundPhase.ClientsTraining, Long, "round 1 to open");
        await Eventually.Until(() => clientRunner.Started.Contains((RoundPhase.ClientsTraining, 1)), TimeSpan.FromSeconds(30), "the client to start training");

        await cluster.Blackhole(c1);
        clientRunner.Release(); // it trains and sends into the blackhole
        Log(clock, "c1 blackholed from s1, s2");
        // Keep-majority on role server: c1's side holds no server, so the servers down c1 and c1 downs itself.
        foreach (var server in new[] { s1, s2 })
            await Eventually.Until(() => !server.Cluster.State.Members.Any(m => m.Address == c1.Address), TimeSpan.FromSeconds(45),
                $"{server.Name} to remove c1");
        Log(clock, "c1 removed by the servers");
        await Eventually.Until(() => c1.Terminated, TimeSpan.FromSeconds(45), "c1 to down itself and terminate");
        Log(clock, "c1 terminated");
        var during = await WaitForStatus(s1, job, _ => true, TimeSpan.FromSeconds(10), "the job's status");
        Assert.Equal(RoundPhase.ClientsTraining, during.Phase);
        Assert.Empty(during.Updates);

        // A downed incarnation cannot come back (quarantined): the silo restarts as a fresh node, same client id and data.
        await cluster.Heal(c1);
        var c1b = await cluster.Start("c1b", Client, ["noun.animal"]);
        Log(clock, "c1b (client noun.animal) joined");
        var final = await WaitForStatus(s1, job, s => s.Phase.IsTerminal, Long, "the job to end");
        Log(clock, $"job ended: {final.Phase} {final.FailureReason}");
        Assert.Equal(RoundPhase.Completed, final.Phase);
        var round = Assert.Single(final.History);
        Assert.Equal((1, 1), (round.Round, round.Attempt));
        Assert.Equal(["noun.animal"], round.Participants);
        AssertEachFactOnce(await c1b.JournalEvents(job), ["noun.animal"]);
    }
}

using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using FedCoLLM.Actors.Hosting;

namespace FedCoLLM.Actors.Tests.Hosting;

/// <summary>
/// The first seed keeps hocon/cluster.conf's 15 s seed-node-timeout (it alone can form an island); every other node asks
/// again after fedcollm.cluster.join-retry. Checked on the settings Akka reads, and on real nodes over loopback: a second
/// seed that asked before the first seed existed joins it within seconds of its forming, not after 15 s.
/// </summary>
public sealed class SeedJoinRetryTests
{
    static Config Node(int port, params int[] seeds) => ConfigurationFactory.ParseString($"""
        akka.remote.dot-netty.tcp {"{"} hostname = "127.0.0.1", port = {port}, enable-ssl = off {"}"}
        akka.cluster.seed-nodes = [{string.Join(", ", seeds.Select(s => $"\"akka.tcp://{FederationHost.SystemName}@127.0.0.1:{s}\""))}]
        akka.cluster.roles = [server]
        akka.coordinated-shutdown.phases.cluster-leave.timeout = 2s
        """).WithFallback(FederationConfig.Load(["cluster.conf", "serialization.conf"]));

    [Fact]
    public void The_first_seed_keeps_the_long_timeout_and_every_other_node_gets_the_join_retry()
    {
        var first = SeedJoinRetry.Apply(Node(4101, 4101, 4102));
        var second = SeedJoinRetry.Apply(Node(4102, 4101, 4102));
        var ephemeral = SeedJoinRetry.Apply(Node(0, 4101, 4102));
        var off = SeedJoinRetry.Apply(ConfigurationFactory.ParseString($"{SeedJoinRetry.JoinRetryKey} = 0s").WithFallback(Node(4102, 4101, 4102)));

        Assert.Equal(TimeSpan.FromSeconds(15), first.GetTimeSpan("akka.cluster.seed-node-timeout"));
        Assert.Equal(TimeSpan.FromSeconds(2), second.GetTimeSpan("akka.cluster.seed-node-timeout"));
        Assert.Equal(TimeSpan.FromSeconds(2), ephemeral.GetTimeSpan("akka.cluster.seed-node-timeout"));
        Assert.Equal(TimeSpan.FromSeconds(15), off.GetTimeSpan("akka.cluster.seed-node-timeout"));
        // A public hostname is the address peers dial, so it is what names the first seed.
        Assert.True(SeedJoinRetry.IsFirstSeed(ConfigurationFactory.ParseString("""
            akka.remote.dot-netty.tcp { hostname = "0.0.0.0", public-hostname = "Server-0.fedcollm-server", port = 4053 }
            """), "akka.ssl.tcp://fedcollm@server-0.fedcollm-server:4053"));
    }

    [Fact]
    public async Task A_seed_that_asked_before_the_first_seed_existed_joins_it_within_seconds_of_its_forming()
    {
        var ct = TestContext.Current.CancellationToken;
        var (firstPort, secondPort) = (FreePort(), FreePort());
        var second = FederationHost.CreateSystem(Node(secondPort, firstPort, secondPort));
        ActorSystem? first = null;
        try
        {
            Assert.Equal(TimeSpan.FromSeconds(2), Cluster.Get(second).Settings.SeedNodeTimeout);
            // The second seed's InitJoin finds nobody; it now waits its seed-node-timeout before asking again.
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            first = FederationHost.CreateSystem(Node(firstPort, firstPort, secondPort));
            Assert.Equal(TimeSpan.FromSeconds(15), Cluster.Get(first).Settings.SeedNodeTimeout);
            var formed = new TaskCompletionSource();
            Cluster.Get(first).RegisterOnMemberUp(() => formed.TrySetResult());
            await formed.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var joined = new TaskCompletionSource();
            Cluster.Get(second).RegisterOnMemberUp(() => joined.TrySetResult());
            // 15 s (the old pause of every seed) minus the second seed's head start would still exceed this.
            await joined.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
            TestContext.Current.SendDiagnosticMessage($"second seed Up {clock.Elapsed.TotalSeconds:F1} s after the first seed formed");
            Assert.Equal(2, Cluster.Get(first).State.Members.Count(m => m.Status == MemberStatus.Up));
        }
        finally
        {
            await Task.WhenAll(new[] { second, first }.OfType<ActorSystem>().Select(s => s.Terminate())).WaitAsync(TimeSpan.FromSeconds(20), ct);
        }
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

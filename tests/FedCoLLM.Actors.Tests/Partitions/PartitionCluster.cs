using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Remote;
using Akka.Remote.Transport;
using Akka.Streams;
using ThrottleMode = Akka.Remote.Transport.ThrottleMode;
using Akka.Streams.Dsl;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Serialization;
using FedCoLLM.Actors.Tests.Actors;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Actors.Tests.Partitions;

/// <summary>
/// Several cluster nodes in one test process, each its own ActorSystem composed by <see cref="FederationNode.Start"/>
/// for its roles, all journaling to the run directory's one SQLite file (WAL), each with its own blob directory.
/// Remoting goes through the throttler and gremlin transport adapters, so links can be blackholed and healed.
/// </summary>
sealed class PartitionCluster : IAsyncDisposable
{
    /// <summary>All nodes must share the system name (one cluster) and the adapters (the address protocol becomes akka.trttl.gremlin.tcp).</summary>
    const string SystemName = "fedcollm-partitions";

    readonly RunDirectory run;
    readonly string jobId;
    readonly List<ClusterNode> nodes = [];
    public IReadOnlyList<ClusterNode> Nodes => nodes;
    public TimeSpan StableAfter { get; }

    public PartitionCluster(RunDirectory run, string jobId, TimeSpan stableAfter)
    {
        this.run = run;
        this.jobId = jobId;
        StableAfter = stableAfter;
    }

    /// <summary>Starts a node with <paramref name="roles"/> and joins it to the first node (or to itself when it is the first).</summary>
    public async Task<ClusterNode> Start(string name, string[] roles, string[]? clients = null, Func<IStepRunner, IStepRunner>? wrap = null)
    {
        var preamble = $"fedcollm.sqlite-file = \"{run.Journal.Replace("\\", "/")}\"";
        var files = new[] { "local.conf", "sharding.conf", "serialization.conf", "persistence-sqlite.conf" };
        var config = ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.cluster.jmx.enabled = off
            akka.cluster.roles = [{{string.Join(", ", roles)}}]
            fedcollm.self-join = off
            akka.remote.dot-netty.tcp.applied-adapters = [trttl, gremlin]
            akka.cluster.sharding.entity-restart-backoff = 300ms
            fedcollm.protocol.retry { max-attempts = 5, base-delay = 50ms, max-delay = 200ms }
            fedcollm.protocol.directory-poll = 200ms
            # Loaded 2-core machine, TorchSharp steps in the same process: short, but not twitchy.
            akka.cluster.failure-detector.acceptable-heartbeat-pause = 4s
            # Disposal: the nodes leave together; do not wait out the default 10 s phase timeouts.
            akka.coordinated-shutdown.phases {
              cluster-sharding-shutdown-region.timeout = 2s
              cluster-leave.timeout = 2s
              cluster-exiting.timeout = 2s
            }
            akka.cluster.downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
            akka.cluster.split-brain-resolver {
              active-strategy = keep-majority
              keep-majority.role = server
              stable-after = {{(int)StableAfter.TotalMilliseconds}}ms
              down-all-when-unstable = off
            }
            """).WithFallback(FederationConfig.Load(files, preamble));
        var system = ActorSystem.Create(SystemName, BootstrapSetup.Create().WithConfig(config).And(WireTypes.Setup()));
        var blobs = Path.Combine(run.Path, "blobs-" + name);
        IStepRunner runner = new LearningStepRunner(Tiny.Setups, new DirectoryBlobStore(blobs));
        if (wrap is not null) runner = wrap(runner);
        var node = FederationNode.Start(system, new NodeOptions(blobs, runner) { Clients = (clients ?? []).Select(Tiny.Client).ToArray() });
        var member = new ClusterNode(name, system, node);
        var seed = nodes.FirstOrDefault(n => !n.Terminated);
        nodes.Add(member);
        await Cluster.Get(system).JoinAsync(seed is null ? Cluster.Get(system).SelfAddress : seed.Address)
            .WaitAsync(TimeSpan.FromSeconds(30));
        return member;
    }

    /// <summary>Blackholes every link between <paramref name="island"/> and the other live nodes, in both directions on both ends.</summary>
    public async Task Blackhole(params ClusterNode[] island) => await SetLinks(island, Akka.Remote.Transport.Blackhole.Instance);

    public async Task Heal(params ClusterNode[] island) => await SetLinks(island, Unthrottled.Instance);

    async Task SetLinks(ClusterNode[] island, ThrottleMode mode)
    {
        foreach (var inside in island.Where(n => !n.Terminated))
            foreach (var outside in nodes.Where(n => !n.Terminated && !island.Contains(n)))
            {
                Assert.True(await inside.Throttle(outside.Address, mode), $"throttling {inside.Name} → {outside.Name}");
                Assert.True(await outside.Throttle(inside.Address, mode), $"throttling {outside.Name} → {inside.Name}");
            }
    }

    /// <summary>The server node whose shard region currently hosts the job entity, if any.</summary>
    public async Task<ClusterNode?> JobHost()
    {
        foreach (var node in nodes.Where(n => !n.Terminated && n.Roles.Contains("server")))
        {
            try
            {
                var state = await node.Node.Servers.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5));
                if (state.Shards.Any(s => s.EntityIds.Contains(jobId))) return node;
            }
            catch (AskTimeoutException) { }
        }
        return null;
    }

    /// <summary>Stops every node at once (one at a time, each would wait out the others' leaving).</summary>
    public async ValueTask DisposeAsync() =>
        await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
}

sealed class ClusterNode(string name, ActorSystem system, FederationNode node) : IAsyncDisposable
{
    public string Name => name;
    public ActorSystem System => system;
    public FederationNode Node => node;
    public Cluster Cluster => Cluster.Get(system);
    public Address Address => Cluster.SelfAddress;
    public IReadOnlySet<string> Roles => Cluster.SelfRoles.ToHashSet();
    public bool Terminated => system.WhenTerminated.IsCompleted;

    public Task<bool> Throttle(Address to, ThrottleMode mode) =>
        ((IRemoteActorRefProvider)((ExtendedActorSystem)system).Provider).Transport.ManagementCommand(new SetThrottle(to, ThrottleTransportAdapter.Direction.Both, mode));

    /// <summary>The addresses of the members this node sees as Up (or WeaklyUp).</summary>
    public IReadOnlySet<Address> UpMembers() =>
        Cluster.State.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp).Select(m => m.Address).ToHashSet();

    public async Task<RoundState?> TryStatus(string jobId)
    {
        try
        {
            return (await node.Servers.Ask<JobStatus>(new GetJobStatus(jobId), TimeSpan.FromSeconds(5))).State;
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }

    /// <summary>The job's journal as stored in SQLite (every event, also those before a snapshot).</summary>
    public async Task<IReadOnlyList<IRoundEvent>> JournalEvents(string jobId)
    {
        var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var envelopes = await journal.CurrentEventsByPersistenceId($"federation-job-{jobId}", 0, long.MaxValue)
            .RunWith(Sink.Seq<EventEnvelope>(), system.Materializer());
        return envelopes.Select(e => (IRoundEvent)e.Event).ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        if (Terminated) return;
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
    }
}

/// <summary>Polling with a deadline: the assertion is the condition, the timeout only bounds the wait.</summary>
static class Eventually
{
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan within, Func<T, string> what)
    {
        var deadline = DateTime.UtcNow + within;
        T last = default!;
        while (true)
        {
            last = await probe();
            if (done(last)) return last;
            if (DateTime.UtcNow > deadline) break;
            await Task.Delay(200);
        }
        Assert.Fail($"Timed out after {within.TotalSeconds:F0} s waiting for {what(last)}");
        return last;
    }

    public static Task Until(Func<bool> done, TimeSpan within, string what) =>
        Until(() => Task.FromResult(done()), d => d, within, _ => what);
}

/// <summary>Delegates to the real runner; can hold one phase (cancellably) until released, and counts started and finished steps per phase.</summary>
sealed class GatedRunner(IStepRunner inner) : IStepRunner
{
    readonly ManualResetEventSlim release = new(true);
    RoundPhase? hold;
    public ConcurrentQueue<(RoundPhase Phase, int Round)> Started { get; } = new();
    public ConcurrentQueue<(RoundPhase Phase, int Round)> Finished { get; } = new();

    public GatedRunner Hold(RoundPhase phase)
    {
        hold = phase;
        release.Reset();
        return this;
    }

    public void Release() => release.Set();

    public StepResult Run(StepRequest request, string? dataPath, IProgress<StepProgress> progress, CancellationToken cancellation)
    {
        Started.Enqueue((request.Phase, request.Round));
        if (request.Phase == hold) release.Wait(cancellation);
        var result = inner.Run(request, dataPath, progress, cancellation);
        Finished.Enqueue((request.Phase, request.Round));
        return result;
    }
}

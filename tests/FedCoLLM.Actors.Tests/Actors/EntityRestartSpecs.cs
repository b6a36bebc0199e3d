using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Serialization;

namespace FedCoLLM.Actors.Tests.Actors;

/// <summary>
/// Akka.Hosting.TestKit spec: the node is composed through Akka.Hosting exactly as production composes it (shipped
/// hocon files, allow-list setup, FederationNode.Start as a startup task). The job entity is stopped mid-round while
/// the node keeps running; remember-entities recreates it, it replays the SQLite journal and continues from the phase
/// it was in, without redoing the work already journaled.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class EntityRestartSpecs : Akka.Hosting.TestKit.TestKit
{
    const string Job = "restart";
    readonly RunDirectory run;
    readonly FlakyRunner runner;
    FederationNode? node;

    public EntityRestartSpecs() : this(new RunDirectory()) { }

    EntityRestartSpecs(RunDirectory run) : base("entity-restart-" + Guid.NewGuid().ToString("N")[..8])
    {
        this.run = run;
        runner = new FlakyRunner(TestNode.RealRunner(run), RoundPhase.NotStarted, 0).Hold(RoundPhase.LlmDistillation);
    }

    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        var preamble = $"fedcollm.sqlite-file = \"{run.Journal.Replace("\\", "/")}\"";
        var config = ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            akka.cluster.sharding.entity-restart-backoff = 300ms
            fedcollm.protocol.retry { max-attempts = 5, base-delay = 50ms, max-delay = 200ms }
            fedcollm.protocol.directory-poll = 200ms
            """).WithFallback(FederationConfig.Load(["local.conf", "sharding.conf", "serialization.conf", "persistence-sqlite.conf"], preamble));
        builder.AddHocon(config, HoconAddMode.Prepend)
            .AddSetup(WireTypes.Setup())
            .AddStartup((system, _) => node = FederationNode.Start(system, new NodeOptions(run.Blobs, runner) { Clients = Tiny.TwoClients.Select(Tiny.Client).ToArray() }));
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<RoundState> Status() =>
        (await node!.Servers.Ask<JobStatus>(new GetJobStatus(Job), TimeSpan.FromSeconds(10))).State;

    [Fact]
    public async Task The_job_entity_stopped_mid_round_is_recreated_and_continues_from_its_phase()
    {
        await AwaitConditionAsync(() => Task.FromResult(node is not null), TimeSpan.FromSeconds(30), cancellationToken: Ct);
        var accepted = await node!.Servers.Ask<JobAccepted>(new StartFederation(Job, Tiny.Spec(Job)), TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(Outcome.Accepted, accepted.Outcome);
        await AwaitConditionAsync(async () => (await Status()).Phase == RoundPhase.LlmDistillation, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100), cancellationToken: Ct);

        // Stop the entity itself (not the node): its worker and the held step are cancelled with it.
        var entity = await Sys.ActorSelection($"/system/sharding/{FederationNode.JobRegion}/*/{Job}").ResolveOne(TimeSpan.FromSeconds(10), Ct);
        await WatchAsync(entity);
        entity.Tell(PoisonPill.Instance);
        await ExpectTerminatedAsync(entity, TimeSpan.FromSeconds(10), cancellationToken: Ct);
        int callsBeforeStop = runner.Calls.Count;

        // Remember-entities brings it back after the restart backoff; it recovers into the phase it left.
        var recovered = await Status();
        Assert.Equal(RoundPhase.LlmDistillation, recovered.Phase);
        Assert.Equal(1, recovered.Round);
        runner.Release();
        await AwaitConditionAsync(async () => (await Status()).Phase == RoundPhase.Completed, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100), cancellationToken: Ct);

        // Only the interrupted phase and what follows it ran again.
        Assert.Equal([RoundPhase.LlmDistillation, RoundPhase.Evaluating], runner.Calls.Skip(callsBeforeStop).Select(c => c.Phase).Distinct());
        var final = await Status();
        Assert.Single(final.History);
        Assert.Equal(Tiny.TwoClients, final.History[0].Participants);
    }

    protected override async Task AfterAllAsync()
    {
        await base.AfterAllAsync();
        run.Dispose();
    }
}

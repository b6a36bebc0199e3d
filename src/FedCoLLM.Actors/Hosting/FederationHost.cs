using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Security;
using FedCoLLM.Actors.Serialization;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Actors.Hosting;

/// <summary>
/// The one composition root of a node: an ActorSystem from the loaded configuration (with the Hyperion allow-list), the
/// node's blob store, the step runner that takes every job's setup from the job definition its steps name, and the
/// federation's actors for the node's roles (<see cref="FederationNode"/>). The single-process cluster, <c>fedcollm
/// node</c> and the test harnesses all start nodes here.
/// </summary>
public sealed class FederationHost : IAsyncDisposable
{
    public const string SystemName = "fedcollm";

    public ActorSystem System { get; }
    public FederationNode Node { get; }
    public IBlobStore Store { get; }
    readonly IDisposable? setups;

    FederationHost(ActorSystem system, FederationNode node, IBlobStore store, IDisposable? setups)
    {
        System = system;
        Node = node;
        Store = store;
        this.setups = setups;
    }

    /// <param name="wrap">Decorates the step runner (e.g. a trace of each step for operators and fault injection).</param>
    /// <param name="setups">Where steps find their job's setup; by default the job definition they name.</param>
    /// <param name="clientBlobDirectory">Gives each local client silo its own store under this folder (<see cref="NodeOptions.ClientStores"/>),
    /// so that what moves between the silos and the server goes through the transfer layer and is counted. Their steps share
    /// the node's job setups (one copy of the models); the secure-aggregation secrets stay where the node keeps them.</param>
    public static FederationHost Start(Config config, string blobDirectory, IReadOnlyList<LocalClient>? clients = null,
        Func<IStepRunner, IStepRunner>? wrap = null, IJobSetups? setups = null, string? clientBlobDirectory = null)
    {
        var system = CreateSystem(config);
        var store = new DirectoryBlobStore(blobDirectory);
        var owned = setups is null ? new DefinitionSetups(store) : null;
        var secrets = LearningStepRunner.DefaultSecretDirectory(store);
        IStepRunner RunnerOver(IBlobStore s)
        {
            IStepRunner r = new LearningStepRunner(setups ?? owned!, s, secrets, StepCheckpoints.From(system.Settings.Config, s));
            return wrap is null ? r : wrap(r);
        }
        var runner = RunnerOver(store);
        var node = FederationNode.Start(system, new NodeOptions(blobDirectory, runner)
        {
            Clients = clients ?? [],
            ClientStores = clientBlobDirectory is null ? null : (clientBlobDirectory, RunnerOver),
        });
        return new FederationHost(system, node, store, owned);
    }

    /// <summary>An ActorSystem of the federation's name and serializers, with no federation actors (a node that only
    /// submits, lists or watches jobs starts its proxies itself). Remoting is mutual TLS under our CA when the
    /// configuration turns it on (<see cref="RemotingTls"/>); plaintext off loopback needs an explicit opt-out.</summary>
    public static ActorSystem CreateSystem(Config config)
    {
        config = SeedJoinRetry.Apply(config);
        var insecure = RemotingTls.RequirePlaintextOptIn(config);
        var setup = BootstrapSetup.Create().WithConfig(config).And(WireTypes.Setup());
        if (RemotingTls.Setup(config) is { } tls) setup = setup.And(tls);
        var system = ActorSystem.Create(SystemName, setup);
        if (insecure is not null)
        {
            Console.Error.WriteLine(insecure);
            system.Log.Warning(insecure);
        }
        return system;
    }

    public async ValueTask DisposeAsync()
    {
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance);
        setups?.Dispose();
    }
}

using Akka.Actor;
using Akka.Event;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using FedCoLLM.Actors.Aggregation;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Client;
using FedCoLLM.Actors.Server;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Actors.Hosting;

/// <summary>A client silo hosted on this node: its id and the private training file only it reads.</summary>
public sealed record LocalClient(string ClientId, string DataPath);

public sealed record NodeOptions(string BlobDirectory, IStepRunner Runner)
{
    public IReadOnlyList<LocalClient> Clients { get; init; } = [];

    /// <summary>Gives each local client silo a store of its own (<c>DIR/ID</c>), served by a blob server of its own
    /// (<c>/user/blobs-client-ID</c>), and the step runner over that store this makes: the client then fetches what it
    /// trains from and the server fetches its updates through the transfer layer, as between separate nodes, so the
    /// communication counters measure them. Null: the silos share the node's store and nothing moves between them.</summary>
    public (string Directory, Func<IBlobStore, IStepRunner> Runner)? ClientStores { get; init; }
}

/// <summary>
/// Starts what a node runs for its cluster roles: the blob server (every node), the job and directory shard regions
/// (server role; proxies elsewhere), the aggregator region (aggregator role; a proxy elsewhere) and the local client
/// silos (client role). The CLI, the multi-node host and the tests all compose nodes here.
/// </summary>
public sealed record FederationNode(IActorRef Servers, IActorRef Directory, IActorRef Aggregators, IReadOnlyList<IActorRef> Clients, NodeServices Services)
{
    public const string JobRegion = "federation-job";
    public const string DirectoryRegion = "job-directory";
    public const string AggregatorRegion = "aggregator";

    /// <summary>A node without federation roles (one that submits, lists, watches or cancels jobs): proxies to the job
    /// and directory regions hosted by the server-role nodes.</summary>
    public static (IActorRef Servers, IActorRef Directory) StartProxies(ActorSystem system)
    {
        var sharding = ClusterSharding.Get(system);
        return (sharding.StartProxy(JobRegion, "server", new JobMessageExtractor()),
            sharding.StartProxy(DirectoryRegion, "server", new DirectoryMessageExtractor()));
    }

    public static FederationNode Start(ActorSystem system, NodeOptions options)
    {
        var cluster = Cluster.Get(system);
        var roles = cluster.SelfRoles;
        var store = new DirectoryBlobStore(options.BlobDirectory);
        system.ActorOf(BlobServerActor.Props(store), BlobServerActor.DefaultName);
        var blobPath = (new RootActorPath(cluster.SelfAddress) / "user" / BlobServerActor.DefaultName).ToString();
        var timeouts = ProtocolTimeouts.From(system.Settings.Config);
        var services = new NodeServices(new BlobCustody(store, blobPath, timeouts), options.Runner, timeouts);

        var sharding = ClusterSharding.Get(system);
        var extractor = new JobMessageExtractor();
        var aggregators = roles.Contains("aggregator")
            ? sharding.Start(AggregatorRegion, _ => AggregatorActor.Props(services),
                ClusterShardingSettings.Create(system).WithRole("aggregator").WithRememberEntities(false), extractor)
            : sharding.StartProxy(AggregatorRegion, "aggregator", extractor);
        var directory = roles.Contains("server")
            ? sharding.Start(DirectoryRegion, _ => JobDirectoryActor.Props(),
                ClusterShardingSettings.Create(system).WithRole("server").WithRememberEntities(true), new DirectoryMessageExtractor())
            : sharding.StartProxy(DirectoryRegion, "server", new DirectoryMessageExtractor());
        var servers = roles.Contains("server")
            ? sharding.Start(JobRegion, jobId => ServerActor.Props(jobId, services, aggregators, directory),
                ClusterShardingSettings.Create(system).WithRole("server").WithRememberEntities(true), extractor)
            : sharding.StartProxy(JobRegion, "server", extractor);

        NodeServices ServicesOf(LocalClient client)
        {
            if (options.ClientStores is not { } own) return services;
            var name = Uri.EscapeDataString(client.ClientId);
            var clientStore = new DirectoryBlobStore(Path.Combine(own.Directory, name));
            var serverName = $"{BlobServerActor.DefaultName}-client-{name}";
            system.ActorOf(BlobServerActor.Props(clientStore), serverName);
            var path = (new RootActorPath(cluster.SelfAddress) / "user" / serverName).ToString();
            return new NodeServices(new BlobCustody(clientStore, path, timeouts), own.Runner(clientStore), timeouts);
        }

        var clients = roles.Contains("client")
            ? options.Clients.Select(c => system.ActorOf(ClientSilo.Props(c.ClientId, c.DataPath, servers, ServicesOf(c), LoadSigner(system, c.ClientId)),
                $"client-{Uri.EscapeDataString(c.ClientId)}")).ToArray()
            : [];
        if (clients.Length > 0)
            system.ActorOf(SiloDirectoryPoller.Props(directory, options.Clients.Zip(clients).ToDictionary(s => s.Item1.ClientId, s => s.Item2),
                timeouts.DirectoryPoll), SiloDirectoryPoller.DefaultName);

        if (system.Settings.Config.GetBoolean("fedcollm.self-join", false) && system.Settings.Config.GetStringList("akka.cluster.seed-nodes").Count == 0)
            cluster.Join(cluster.SelfAddress);
        return new FederationNode(servers, directory, aggregators, clients, services);
    }

    /// <summary>Where client silos find their private keys (<c>ID.key</c>); env <c>FEDCOLLM_KEYS_DIR</c>. Never part of a job.</summary>
    public const string KeysDirectoryKey = "fedcollm.identity.keys-dir";

    /// <summary>The silo's private key from the node's keys directory, or null (its updates go unsigned, which a job that
    /// enrols keys refuses, naming the file to provide).</summary>
    static Identity.ClientSigner? LoadSigner(ActorSystem system, string clientId)
    {
        var directory = system.Settings.Config.GetString(KeysDirectoryKey, "");
        var signer = directory.Length == 0 ? null : Identity.ClientKeyFiles.Load(directory, clientId);
        if (signer is null)
            system.Log.Info("Client {0} has no private key ({1}); its updates are unsigned, and jobs that enrol client keys will refuse them",
                clientId, directory.Length == 0 ? $"{KeysDirectoryKey} is not set" : $"no {Identity.ClientKeyFiles.PrivatePath(directory, clientId)}");
        else
        {
            system.Log.Info("Client {0} signs its updates with {1}", clientId, signer.PublicKey);
            system.RegisterOnTermination(signer.Dispose);
        }
        return signer;
    }
}

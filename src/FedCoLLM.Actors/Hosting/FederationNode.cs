using Akka.Actor;
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

public sealed record NodeOptions(string JobId, string BlobDirectory, IStepRunner Runner)
{
    public IReadOnlyList<LocalClient> Clients { get; init; } = [];
    public RetryPolicy Retries { get; init; } = new();
}

/// <summary>
/// Starts what a node runs for its cluster roles: the blob server (every node), the job shard region
/// (server role; a proxy elsewhere), the aggregator region (aggregator role; a proxy elsewhere) and the
/// local ClientActors (client role). The CLI, the multi-node host and the tests all compose nodes here.
/// </summary>
public sealed record FederationNode(IActorRef Servers, IActorRef Aggregators, IReadOnlyList<IActorRef> Clients, NodeServices Services)
{
    public const string JobRegion = "federation-job";
    public const string AggregatorRegion = "aggregator";

    public static FederationNode Start(ActorSystem system, NodeOptions options)
    {
        var cluster = Cluster.Get(system);
        var roles = cluster.SelfRoles;
        var store = new DirectoryBlobStore(options.BlobDirectory);
        system.ActorOf(BlobServerActor.Props(store), "blobs");
        var blobPath = (new RootActorPath(cluster.SelfAddress) / "user" / "blobs").ToString();
        var services = new NodeServices(store, options.Runner, blobPath, options.Retries);

        var sharding = ClusterSharding.Get(system);
        var extractor = new JobMessageExtractor();
        var aggregators = roles.Contains("aggregator")
            ? sharding.Start(AggregatorRegion, _ => AggregatorActor.Props(services),
                ClusterShardingSettings.Create(system).WithRole("aggregator").WithRememberEntities(false), extractor)
            : sharding.StartProxy(AggregatorRegion, "aggregator", extractor);
        var servers = roles.Contains("server")
            ? sharding.Start(JobRegion, jobId => ServerActor.Props(jobId, services, aggregators),
                ClusterShardingSettings.Create(system).WithRole("server").WithRememberEntities(true), extractor)
            : sharding.StartProxy(JobRegion, "server", extractor);

        var clients = roles.Contains("client")
            ? options.Clients.Select(c => system.ActorOf(ClientActor.Props(options.JobId, c.ClientId, c.DataPath, servers, services), $"client-{c.ClientId}")).ToArray()
            : [];

        if (system.Settings.Config.GetBoolean("fedcollm.self-join", false) && system.Settings.Config.GetStringList("akka.cluster.seed-nodes").Count == 0)
            cluster.Join(cluster.SelfAddress);
        return new FederationNode(servers, aggregators, clients, services);
    }
}

using Akka.Cluster.Sharding;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Server;

namespace FedCoLLM.Actors.Hosting;

/// <summary>Every directory message goes to the one directory entity.</summary>
public sealed class DirectoryMessageExtractor() : HashCodeMessageExtractor(1)
{
    public override string? EntityId(object message) => message is IDirectoryMessage ? JobDirectoryActor.EntityId : null;
}

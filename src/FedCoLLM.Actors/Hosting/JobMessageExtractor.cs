using Akka.Cluster.Sharding;
using FedCoLLM.Actors.Protocol;

namespace FedCoLLM.Actors.Hosting;

/// <summary>Routes job messages to the entity named by their JobId. The shard count must never change for a
/// cluster's lifetime (remembered entities are stored per shard). StartEntity is unwrapped by the base class.</summary>
public sealed class JobMessageExtractor() : HashCodeMessageExtractor(MaxShards)
{
    public const int MaxShards = 30;

    public override string? EntityId(object message) => message switch
    {
        IJobMessage m => m.JobId,
        _ => null,
    };
}

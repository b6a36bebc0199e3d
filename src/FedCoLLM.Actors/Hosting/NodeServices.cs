using Akka.Actor;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Actors.Hosting;

/// <summary>What every actor on a node shares: the node's blob store, the TorchSharp step runner, the path
/// other nodes fetch this node's blobs from, and the retry policy for failed steps.</summary>
public sealed record NodeServices(IBlobStore Store, IStepRunner Runner, string BlobServerPath, RetryPolicy Retries)
{
    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Makes <paramref name="blob"/> present in this node's store, fetching it from <paramref name="holder"/> if needed.</summary>
    public Task<BlobRef> EnsureLocalAsync(ActorSystem system, BlobRef blob, string holder, CancellationToken cancellation = default) =>
        BlobFetcher.EnsureLocalAsync(system, Store, blob, ActorPath.Parse(holder), FetchTimeout, cancellation);
}

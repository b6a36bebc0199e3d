using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Actors.Hosting;

/// <summary>What every actor on a node shares: its blob custody, the TorchSharp step runner and the protocol's timers.</summary>
public sealed record NodeServices(BlobCustody Blobs, IStepRunner Runner, ProtocolTimeouts Timeouts)
{
    public IBlobStore Store => Blobs.Store;
    public string BlobServerPath => Blobs.ServerPath;
    public RetryPolicy Retries => Timeouts.Retries;
}

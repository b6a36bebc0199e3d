using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using FedCoLLM.Actors.Hosting;

namespace FedCoLLM.Actors.Blobs;

/// <summary>
/// A node's custody of content-addressed blobs: its store, the path other nodes fetch from, fetching a blob another node
/// holds, and replicating to the other server nodes what the journal is about to name.
/// </summary>
public sealed class BlobCustody(IBlobStore store, string serverPath, ProtocolTimeouts timeouts)
{
    public IBlobStore Store => store;

    /// <summary>This node's <see cref="BlobServerActor"/>, as other nodes address it.</summary>
    public string ServerPath => serverPath;

    // Fetches in flight, by blob and holder: a second caller (a client's prefetch of the broadcast adapter and its next
    // round's task) joins the first instead of moving the same bytes again, so what the counters measure does not depend
    // on which of the two happened to start before the other finished.
    readonly ConcurrentDictionary<(BlobRef Blob, string Holder), Task<BlobRef>> fetching = new();

    // Fetches running against each holder, at most ProtocolTimeouts.BlobFetchesPerHolder at once: the others wait here
    // rather than time out in the holder's queue (or on the association to it) and be fetched again.
    readonly ConcurrentDictionary<string, SemaphoreSlim> lanes = new(StringComparer.Ordinal);

    /// <summary>Makes <paramref name="blob"/> present in this node's store, fetching it from <paramref name="holder"/> if needed.</summary>
    /// <param name="tally">Counts the bytes this call moved (<see cref="TransferTally"/>): nothing when the blob was here
    /// already or another caller's fetch of it from the same holder was in flight (that caller counts them).</param>
    public Task<BlobRef> EnsureLocalAsync(ActorSystem system, BlobRef blob, string holder, CancellationToken cancellation = default, TransferTally? tally = null)
    {
        if (store.Contains(blob)) return Task.FromResult(blob);
        var key = (blob, holder);
        var mine = new TaskCompletionSource<BlobRef>(TaskCreationOptions.RunContinuationsAsynchronously);
        var shared = fetching.GetOrAdd(key, mine.Task);
        if (shared == mine.Task) _ = Fetch();
        return shared.WaitAsync(cancellation);

        // Not cancelled by one caller's token: others may be waiting on it; each caller stops waiting on its own.
        async Task Fetch()
        {
            var lane = lanes.GetOrAdd(holder, _ => new SemaphoreSlim(timeouts.BlobFetchesPerHolder));
            try
            {
                await lane.WaitAsync().ConfigureAwait(false);
                try
                {
                    mine.SetResult(await BlobFetcher.EnsureLocalAsync(system, store, blob, ActorPath.Parse(holder), timeouts.BlobFetch,
                        CancellationToken.None, chunkTimeout: timeouts.BlobChunk, tally: tally).ConfigureAwait(false));
                }
                finally
                {
                    lane.Release();
                }
            }
            catch (Exception e)
            {
                mine.SetException(e);
            }
            finally
            {
                fetching.TryRemove(new KeyValuePair<(BlobRef, string), Task<BlobRef>>(key, mine.Task));
            }
        }
    }

    /// <summary>
    /// Has every other reachable Up server-role node take a copy of <paramref name="blobs"/> (from this node's blob
    /// server), so that a job entity that moves to another server node (this one downed, partitioned away or crashed)
    /// finds there every blob its journal names. Completes when at least one other server node holds them all, or at
    /// once when there is no other server node (the single-process cluster); throws when every peer failed.
    /// </summary>
    public async Task ReplicateToServersAsync(ActorSystem system, IReadOnlyList<BlobRef> blobs)
    {
        if (blobs.Count == 0) return;
        var cluster = Cluster.Get(system);
        var state = cluster.State;
        var peers = state.Members
            .Where(m => m.Status == MemberStatus.Up && m.HasRole("server") && m.Address != cluster.SelfAddress && !state.Unreachable.Contains(m))
            .ToArray();
        if (peers.Length == 0) return;
        var timeout = BlobServerActor.ReplicationFetchTimeout + TimeSpan.FromSeconds(5);
        var copies = await Task.WhenAll(peers.Select(async peer =>
        {
            var server = system.ActorSelection(new RootActorPath(peer.Address) / "user" / BlobServerActor.DefaultName);
            try
            {
                foreach (var blob in blobs)
                    await server.Ask<BlobReplicated>(new ReplicateBlob(blob, serverPath), timeout).ConfigureAwait(false);
                return null;
            }
            catch (Exception e)
            {
                system.Log.Warning("Server node {0} did not take a copy of {1}: {2}", peer.Address, string.Join(", ", blobs), e.Message);
                return e;
            }
        })).ConfigureAwait(false);
        if (copies.All(e => e is not null))
            throw new IOException($"No other server node took a copy of {string.Join(", ", blobs)} (asked {peers.Length}); last failure: {copies[^1]!.Message}", copies[^1]);
    }
}

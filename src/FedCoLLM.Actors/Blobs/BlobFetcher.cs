using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using FedCoLLM.Actors.Telemetry;

namespace FedCoLLM.Actors.Blobs;

/// <summary>
/// Client side of blob transfer: makes a blob local by pulling it from a holder's <see cref="BlobServerActor"/>.
/// </summary>
/// <remarks>
/// A static, Task-returning function rather than an actor: a fetch has no state worth supervising beyond its own
/// retries, an actor caller composes it with <c>PipeTo</c> (its result or failure arrives as a message, as with any
/// other async work), and non-actor code (CLI, tests) awaits it directly. Two concurrent fetches of the same blob
/// are harmless: the store's puts are idempotent and atomic.
/// </remarks>
public static class BlobFetcher
{
    public const int DefaultMaxAttempts = 3;

    /// <inheritdoc cref="EnsureLocalAsync(ActorSystem, IBlobStore, BlobRef, ICanTell, TimeSpan, CancellationToken, int, TimeSpan?, TransferTally?)"/>
    public static Task<BlobRef> EnsureLocalAsync(ActorSystem system, IBlobStore store, BlobRef blob, ActorPath holder,
        TimeSpan timeout, CancellationToken cancellationToken = default, int maxAttempts = DefaultMaxAttempts, TimeSpan? chunkTimeout = null,
        TransferTally? tally = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(holder);
        return EnsureLocalAsync(system, store, blob, system.ActorSelection(holder), timeout, cancellationToken, maxAttempts, chunkTimeout, tally);
    }

    /// <summary>
    /// Returns <paramref name="blob"/> once <paramref name="store"/> holds it: at once (sending nothing) when it already
    /// does, otherwise after fetching it from <paramref name="holder"/> (a node's <see cref="BlobServerActor"/>) and
    /// verifying size and SHA-256 on the way into the store.
    /// </summary>
    /// <param name="timeout">
    /// How long to wait for the holder's answer, and (unless <paramref name="chunkTimeout"/> is given) for each next chunk.
    /// </param>
    /// <param name="chunkTimeout">How long to wait for each next chunk: an idle timeout, so a large blob that keeps
    /// flowing is never cut off, while a holder that died mid-transfer is noticed and the fetch retried.</param>
    /// <param name="maxAttempts">
    /// Attempts in all. A timeout, a broken stream or bytes that do not match the ref are retried;
    /// <see cref="BlobMissing"/> is not (the holder has answered).
    /// </param>
    /// <param name="tally">Counts the bytes this call actually receives, retries included (nothing when the blob is already local).</param>
    /// <exception cref="BlobFetchException">
    /// The blob could not be made local; <see cref="Exception.InnerException"/> is the last attempt's failure.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<BlobRef> EnsureLocalAsync(ActorSystem system, IBlobStore store, BlobRef blob, ICanTell holder,
        TimeSpan timeout, CancellationToken cancellationToken = default, int maxAttempts = DefaultMaxAttempts, TimeSpan? chunkTimeout = null,
        TransferTally? tally = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(holder);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        blob.Validate();

        if (store.Contains(blob))
            return blob;

        Exception? last = null;
        // The bulk channel first where this node has it; after a failed attempt the stream ref, which needs nothing but
        // remoting (a firewall that lets remoting through may still stop the channel's port).
        var bulk = BulkChannel.For(system).Enabled;
        for (var attempt = 1; attempt <= maxAttempts; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return await FetchOnceAsync(system, store, blob, holder, bulk, timeout, chunkTimeout ?? timeout, tally, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (BlobNotFoundException e)
            {
                throw new BlobFetchException(blob, attempt, $"Cannot fetch {blob}: {e.Message}", e);
            }
            catch (Exception e)
            {
                last = e;
                bulk = false;
                system.Log.Warning("Fetching {0} from {1} failed (attempt {2} of {3}): {4}",
                    blob, holder, attempt, maxAttempts, e.Message);
            }

            if (store.Contains(blob))
                return blob; // a concurrent fetch got it
            if (attempt < maxAttempts)
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), cancellationToken).ConfigureAwait(false);
        }

        throw new BlobFetchException(blob, maxAttempts,
            $"Could not fetch {blob} (SHA-256 {blob.Sha256}) from {holder} after {maxAttempts} attempts; " +
            $"last failure: {last!.GetType().Name}: {last.Message}", last);
    }

    private static async Task<BlobRef> FetchOnceAsync(ActorSystem system, IBlobStore store, BlobRef blob, ICanTell holder, bool bulk,
        TimeSpan timeout, TimeSpan chunkTimeout, TransferTally? tally, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        object reply;
        try
        {
            reply = await holder.Ask<object>(new FetchBlob(blob, bulk), timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            throw new TimeoutException($"{holder} did not answer FetchBlob({blob}) within {timeout}.", e);
        }

        await using var bytes = reply switch
        {
            BlobInline i when i.Blob == blob => InlineStream(i, tally),
            BlobOffer o when o.Blob == blob => OfferStream(system, o, chunkTimeout, tally),
            BlobBulkOffer b when b.Blob == blob => await BulkChannel.For(system).OpenAsync(b, chunkTimeout, tally, cancellationToken).ConfigureAwait(false),
            BlobMissing m when m.Blob == blob => throw new BlobNotFoundException(blob, $"{holder} does not have {blob}."),
            Status.Failure f => throw new IOException($"{holder} failed to offer {blob}: {f.Cause?.Message}", f.Cause),
            _ => throw new InvalidOperationException($"{holder} answered FetchBlob({blob}) with an unexpected {reply?.GetType().Name ?? "null"}."),
        };
        var stored = await store.PutAsync(bytes, blob, cancellationToken).ConfigureAwait(false);
        FederationMetrics.BlobBytes(TransferDirection.Received, blob.Size);
        FederationMetrics.BlobFetched(started);
        return stored;
    }

    /// <summary>The bytes that came in the answer: one chunk, counted at once.</summary>
    private static Stream InlineStream(BlobInline inline, TransferTally? tally)
    {
        tally?.Began();
        tally?.Received(inline.Bytes.Length);
        return new MemoryStream(inline.Bytes, writable: false);
    }

    /// <summary>The offer's chunks as they arrive, counted chunk by chunk (<see cref="ChunkStream"/>).</summary>
    private static Stream OfferStream(ActorSystem system, BlobOffer offer, TimeSpan chunkTimeout, TransferTally? tally)
    {
        var materializer = system.WithExtension<FetchMaterializer, FetchMaterializerProvider>().Materializer;
        var (killSwitch, queue) = offer.Chunks.Source
            .IdleTimeout(chunkTimeout)
            .ViaMaterialized(KillSwitches.Single<byte[]>(), Keep.Right)
            .ToMaterialized(Sink.Queue<byte[]>(), Keep.Both)
            .Run(materializer);
        tally?.Began();
        return new ChunkStream(queue, killSwitch, tally);
    }
}

/// <summary>One materializer per ActorSystem for fetch streams; it lives (and dies) with the system.</summary>
internal sealed class FetchMaterializer(IMaterializer materializer) : IExtension
{
    public IMaterializer Materializer { get; } = materializer;
}

internal sealed class FetchMaterializerProvider : ExtensionIdProvider<FetchMaterializer>
{
    public override FetchMaterializer CreateExtension(ExtendedActorSystem system) =>
        new(ActorMaterializer.Create(system, namePrefix: "blob-fetch"));
}

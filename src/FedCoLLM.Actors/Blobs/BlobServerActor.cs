using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Util;
using FedCoLLM.Actors.Telemetry;

namespace FedCoLLM.Actors.Blobs;

/// <summary>
/// Serves this node's <see cref="IBlobStore"/> to other nodes: answers <see cref="FetchBlob"/> with a
/// <see cref="BlobBulkOffer"/> (the bulk channel, <see cref="BulkChannel"/>) when the asker can use it, else with a
/// <see cref="BlobOffer"/> whose stream ref carries the file in chunks (each its own remoting message, far below the
/// frame size), with <see cref="BlobInline"/> for a blob of one chunk, or with <see cref="BlobMissing"/>. One per node, by convention at <c>/user/blobs</c>
/// (<see cref="DefaultName"/>). Clients use <see cref="BlobFetcher"/>.
/// </summary>
/// <remarks>
/// The server does not re-hash before serving (that would read every blob twice); the receiver verifies. A copy of
/// the wrong size is refused (<see cref="BlobMissing"/>, and an error in this node's log naming the file); a copy of
/// the right size with wrong bytes is served and rejected by the receiver's <see cref="IBlobStore.PutAsync"/>.
/// Streams run on this actor's materializer, so they stop with the actor.
/// </remarks>
public sealed class BlobServerActor : ReceiveActor
{
    /// <summary>Conventional actor name: <c>/user/blobs</c>.</summary>
    public const string DefaultName = "blobs";

    /// <summary>64 KiB: half the default 128,000-byte frame, leaving room for the envelope.</summary>
    public const int DefaultChunkSize = 64 * 1024;

    /// <summary>Largest chunk accepted: stays below the default frame size with room for the envelope.</summary>
    public const int MaxChunkSize = 120_000;

    private readonly IBlobStore _store;
    private readonly int _chunkSize;
    private readonly TimeSpan _chunkInterval;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IMaterializer? _materializer;

    public BlobServerActor(IBlobStore store, int chunkSize)
    {
        _store = store;
        _chunkSize = chunkSize;
        _chunkInterval = ChunkInterval(Context.System.Settings.Config);
        Receive<FetchBlob>(Handle);
        Receive<ReplicateBlob>(Replicate);
    }

    /// <summary>Fault injection: <c>fedcollm.blobs.chunk-interval</c> (default 0, off) paces each outgoing chunk, so a
    /// transfer lasts long enough for the chaos harness to kill a node in the middle of it (hocon/chaos.conf).</summary>
    public static TimeSpan ChunkInterval(Akka.Configuration.Config config)
    {
        var interval = config.GetTimeSpan("fedcollm.blobs.chunk-interval", TimeSpan.Zero, allowInfinite: false);
        if (interval < TimeSpan.Zero || interval > TimeSpan.FromSeconds(10))
            throw new ArgumentException($"fedcollm.blobs.chunk-interval = {interval}: expected 0 (off) up to 10s; it only paces transfers for fault injection.");
        return interval;
    }

    /// <summary>How long a <see cref="ReplicateBlob"/> waits for the holder's answer and then for each chunk.</summary>
    public static readonly TimeSpan ReplicationFetchTimeout = TimeSpan.FromSeconds(30);

    private void Replicate(ReplicateBlob request)
    {
        var blob = request.Blob;
        ActorPath holder;
        try
        {
            blob.Validate();
            holder = ActorPath.Parse(request.Holder);
        }
        catch (Exception e) when (e is ArgumentException or UriFormatException or FormatException)
        {
            Sender.Tell(new Status.Failure(new ArgumentException($"Malformed ReplicateBlob: {e.Message}", e)));
            return;
        }
        BlobFetcher.EnsureLocalAsync(Context.System, _store, blob, holder, ReplicationFetchTimeout).PipeTo(Sender,
            success: _ => new BlobReplicated(blob),
            failure: e => new Status.Failure(e));
    }

    public static Props Props(IBlobStore store, int chunkSize = DefaultChunkSize)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkSize, MaxChunkSize);
        return Akka.Actor.Props.Create(() => new BlobServerActor(store, chunkSize));
    }

    protected override void PreStart() => _materializer = Context.Materializer();

    private void Handle(FetchBlob request)
    {
        var blob = request.Blob;
        try
        {
            blob.Validate();
        }
        catch (ArgumentException e)
        {
            _log.Warning("Ignoring FetchBlob from {0} with a malformed ref: {1}", Sender, e.Message);
            return;
        }

        if (!_store.Contains(blob))
        {
            _log.Debug("{0} requested by {1}: not here", blob, Sender);
            Sender.Tell(new BlobMissing(blob));
            return;
        }

        if (blob.Size <= _chunkSize && _chunkInterval == TimeSpan.Zero)
        {
            ServeInline(blob);
            return;
        }

        if (request.Bulk && BulkChannel.For(Context.System).Offer(_store, blob, _chunkInterval, _chunkSize) is { } bulk)
        {
            AnnounceServing(blob);
            Sender.Tell(bulk);
            return;
        }

        Stream file;
        try
        {
            file = _store.OpenRead(blob);
        }
        catch (IOException e)
        {
            // Deleted since Contains, or damaged: either way this node cannot serve it.
            _log.Error(e, "Cannot serve {0}: {1}", blob, e.Message);
            Sender.Tell(new BlobMissing(blob));
            return;
        }

        var chunkSize = _chunkSize;
        var chunks = Source.UnfoldResourceAsync<byte[], Stream>(
            create: () => Task.FromResult(file),
            read: stream => ReadChunkAsync(stream, chunkSize),
            close: async stream =>
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                return Done.Instance;
            });

        if (_chunkInterval > TimeSpan.Zero)
        {
            var interval = _chunkInterval;
            chunks = chunks.SelectAsync(1, async chunk =>
            {
                await Task.Delay(interval).ConfigureAwait(false);
                return chunk;
            });
        }

        Task<ISourceRef<byte[]>> offered;
        try
        {
            offered = chunks.RunWith(StreamRefs.SourceRef<byte[]>(), _materializer!);
        }
        catch
        {
            file.Dispose();
            throw;
        }
        AnnounceServing(blob);
        offered.PipeTo(Sender, success: chunkRef => new BlobOffer(blob, chunkRef),
            failure: e => new Status.Failure(e));
    }

    /// <summary>A blob of one chunk goes in the answer (<see cref="BlobInline"/>), unless fault injection paces chunks:
    /// then every transfer streams, so the chaos harness can kill one in the middle.</summary>
    private void ServeInline(BlobRef blob)
    {
        byte[] bytes;
        try
        {
            using var file = _store.OpenRead(blob);
            bytes = new byte[blob.Size];
            file.ReadExactly(bytes);
        }
        catch (Exception e) when (e is IOException or BlobIntegrityException)
        {
            _log.Error(e, "Cannot serve {0}: {1}", blob, e.Message);
            Sender.Tell(new BlobMissing(blob));
            return;
        }
        FederationMetrics.BlobBytes(TransferDirection.Sent, bytes.Length);
        AnnounceServing(blob);
        Sender.Tell(new BlobInline(blob, bytes));
    }

    /// <summary>Tells this node's event stream that <see cref="Sender"/> is being served <paramref name="blob"/> (inline, on the
    /// bulk channel or as a stream).</summary>
    private void AnnounceServing(BlobRef blob) =>
        Context.System.EventStream.Publish(new BlobServing(blob, Sender.Path.Address.ToString()));

    private static async Task<Option<byte[]>> ReadChunkAsync(Stream stream, int chunkSize)
    {
        var buffer = new byte[chunkSize];
        var n = await stream.ReadAtLeastAsync(buffer, chunkSize, throwOnEndOfStream: false).ConfigureAwait(false);
        if (n == 0)
            return Option<byte[]>.None;
        FederationMetrics.BlobBytes(TransferDirection.Sent, n);
        return n == chunkSize ? buffer : buffer[..n];
    }
}

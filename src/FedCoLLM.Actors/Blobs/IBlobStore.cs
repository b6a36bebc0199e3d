namespace FedCoLLM.Actors.Blobs;

/// <summary>
/// Content-addressed, write-once store of blobs keyed by <see cref="BlobRef"/>. Implementations are thread-safe;
/// putting the same bytes twice (also concurrently) is harmless.
/// </summary>
public interface IBlobStore
{
    /// <summary>Stores <paramref name="bytes"/> (no-op when already present) and returns their ref.</summary>
    BlobRef Put(ReadOnlySpan<byte> bytes);

    /// <inheritdoc cref="Put(ReadOnlySpan{byte})"/>
    BlobRef Put(byte[] bytes) => Put(new ReadOnlySpan<byte>(bytes ?? throw new ArgumentNullException(nameof(bytes))));

    /// <summary>
    /// Whether the store holds a blob of the right size under this hash. Cheap: does not re-hash
    /// (<see cref="Read"/> does).
    /// </summary>
    bool Contains(BlobRef blob);

    /// <summary>
    /// The blob's bytes, verified against its size and hash.
    /// Throws <see cref="BlobNotFoundException"/> or <see cref="BlobIntegrityException"/>.
    /// </summary>
    byte[] Read(BlobRef blob);

    /// <summary>
    /// A read stream over the blob. Checks the size on open but not the hash (that would mean reading it twice):
    /// whoever consumes the stream and needs certainty verifies, as <see cref="PutAsync"/> on the receiving node does.
    /// Throws <see cref="BlobNotFoundException"/> or <see cref="BlobIntegrityException"/> (size).
    /// </summary>
    Stream OpenRead(BlobRef blob);

    /// <summary>
    /// Streams <paramref name="source"/> into the store, hashing as it goes. With <paramref name="expected"/>,
    /// bytes that do not match it throw <see cref="BlobIntegrityException"/> and leave the store unchanged.
    /// Returns the ref of what was stored.
    /// </summary>
    Task<BlobRef> PutAsync(Stream source, BlobRef? expected = null, CancellationToken cancellationToken = default);
}

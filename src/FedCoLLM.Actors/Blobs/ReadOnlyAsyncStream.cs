namespace FedCoLLM.Actors.Blobs;

/// <summary>
/// A forward-only, read-only <see cref="Stream"/> whose one real operation is
/// <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>: the shape of a transfer being fed to
/// <see cref="IBlobStore.PutAsync"/> (<see cref="ChunkStream"/>, <see cref="BulkStream"/>). The other members route to it or
/// refuse.
/// </summary>
internal abstract class ReadOnlyAsyncStream : Stream
{
    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    public override bool CanSeek => false;
    public override bool CanWrite => false;

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

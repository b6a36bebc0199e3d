using System.Net.Sockets;

namespace FedCoLLM.Actors.Blobs;

/// <summary>
/// Read-only view of a <see cref="BulkChannel"/> connection: exactly <paramref name="length"/> bytes, then the end. A
/// connection that closes early is an <see cref="IOException"/> naming how far it got; a read that makes no progress
/// within <paramref name="idle"/> (a holder that died without a reset) is a <see cref="TimeoutException"/>. The bytes
/// are counted into <paramref name="tally"/> in pieces of <see cref="BlobServerActor.DefaultChunkSize"/>, so a transfer
/// counts the same chunks on this channel as on a stream ref.
/// </summary>
internal sealed class BulkStream(TcpClient client, Stream inner, long length, TimeSpan idle, TransferTally? tally) : ReadOnlyAsyncStream
{
    long position;
    long chunksCounted;
    bool disposed;

    public override bool CanRead => !disposed;
    public override long Length => length;

    public override long Position
    {
        get => position;
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var wanted = (int)Math.Min(buffer.Length, length - position);
        if (wanted == 0)
            return 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(idle);
        int n;
        try
        {
            n = await inner.ReadAsync(buffer[..wanted], timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The blob bulk channel sent nothing for {idle.TotalSeconds:F0} s after {position:N0} of {length:N0} bytes.");
        }
        if (n == 0)
            throw new IOException($"The blob bulk channel closed after {position:N0} of {length:N0} bytes.");
        position += n;
        if (tally is not null)
        {
            var chunks = (position + BlobServerActor.DefaultChunkSize - 1) / BlobServerActor.DefaultChunkSize;
            tally.Received(n, chunks - chunksCounted);
            chunksCounted = chunks;
        }
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !disposed)
        {
            disposed = true;
            inner.Dispose();
            client.Dispose();
        }
        base.Dispose(disposing);
    }
}

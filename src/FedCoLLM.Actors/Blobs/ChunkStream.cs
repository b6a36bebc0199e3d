using Akka.Streams;

namespace FedCoLLM.Actors.Blobs;

/// <summary>
/// Read-only <see cref="Stream"/> over a <see cref="ISinkQueue{T}"/> of byte chunks, so a remote stream ref can be
/// fed to <see cref="IBlobStore.PutAsync"/> without blocking a thread while the next chunk is on its way.
/// Disposing it before the end shuts the stream down (which cancels the sender's side). Every chunk that arrives is
/// counted into <paramref name="tally"/>: this is where a stream transfer's bytes are measured (<see cref="BulkStream"/> counts the bulk channel's).
/// </summary>
internal sealed class ChunkStream(ISinkQueue<byte[]> queue, IKillSwitch killSwitch, TransferTally? tally = null) : ReadOnlyAsyncStream
{
    private byte[] _chunk = [];
    private int _offset;
    private bool _ended;
    private bool _disposed;

    public override bool CanRead => !_disposed;
    public override long Length => throw new NotSupportedException();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.Length == 0)
            return 0;
        while (_offset == _chunk.Length)
        {
            if (_ended)
                return 0;
            var next = await queue.PullAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!next.HasValue)
            {
                _ended = true;
                return 0;
            }
            _chunk = next.Value ?? [];
            _offset = 0;
            tally?.Received(_chunk.Length);
        }
        var n = Math.Min(buffer.Length, _chunk.Length - _offset);
        _chunk.AsMemory(_offset, n).CopyTo(buffer);
        _offset += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            if (!_ended)
                killSwitch.Shutdown();
        }
        base.Dispose(disposing);
    }
}

namespace FedCoLLM.Actors.Blobs;

/// <summary>
/// The bytes a fetch actually moved, counted where they arrive (<see cref="ChunkStream"/>, chunk by chunk) rather than
/// derived from the blob's size: a fetch that finds the blob already local moves nothing and counts nothing, and a
/// transfer that broke off and was retried counts its partial bytes too (so a retried fetch may count more than the blob).
/// One tally may span several fetches (retries of the same blob); it is thread-safe because chunks arrive on stream threads.
/// </summary>
public sealed class TransferTally
{
    long bytes, chunks, transfers;

    /// <summary>Payload bytes received (the chunks' contents, without remoting framing).</summary>
    public long Bytes => Interlocked.Read(ref bytes);

    /// <summary>Chunks received: pieces of at most 64 KiB (<see cref="BlobServerActor.DefaultChunkSize"/>). On a stream ref
    /// each is one remoting message; on the bulk channel (<see cref="BulkStream"/>) each is a 64 KiB span of the connection.</summary>
    public long Chunks => Interlocked.Read(ref chunks);

    /// <summary>Transfers begun (the holder offered the blob and its stream was opened): 1 unless a transfer was retried.</summary>
    public long Transfers => Interlocked.Read(ref transfers);

    internal void Began() => Interlocked.Increment(ref transfers);

    internal void Received(long n, long pieces = 1)
    {
        Interlocked.Add(ref bytes, n);
        Interlocked.Add(ref chunks, pieces);
    }

    public TransferCount Count() => new(Bytes, Chunks, (int)Transfers);
}

/// <summary>A measured transfer as the journal records it (numbers only): payload <paramref name="Bytes"/> received, in
/// <paramref name="Chunks"/> pieces of at most 64 KiB (<see cref="TransferTally.Chunks"/>), over <paramref name="Transfers"/> transfers (0 when the receiver already
/// held the blob and nothing moved; more than 1 when a broken transfer was retried).</summary>
public sealed record TransferCount(long Bytes, long Chunks, int Transfers)
{
    public static readonly TransferCount None = new(0, 0, 0);

    public string? Invalid() => Bytes < 0 || Chunks < 0 || Transfers < 0 ? $"negative transfer count {this}" : null;
}

namespace FedCoLLM.Actors.Blobs;

/// <summary>
/// Bytes do not match their <see cref="BlobRef"/> (wrong size or wrong SHA-256): a corrupt file in a store,
/// or a transfer that delivered other bytes than the ref promises.
/// </summary>
public sealed class BlobIntegrityException : IOException
{
    public BlobIntegrityException(BlobRef expected, string actualSha256, long actualSize, string? path, string message)
        : base(message)
    {
        Expected = expected;
        ActualSha256 = actualSha256;
        ActualSize = actualSize;
        Path = path;
    }

    /// <summary>The ref the bytes should have matched.</summary>
    public BlobRef Expected { get; }

    /// <summary>SHA-256 of the bytes actually seen; empty when only the size was checked.</summary>
    public string ActualSha256 { get; }

    /// <summary>Number of bytes actually seen.</summary>
    public long ActualSize { get; }

    /// <summary>The file that holds the bad bytes, when there is one.</summary>
    public string? Path { get; }
}

/// <summary>A blob is not in a store, or a holder answered that it does not have it.</summary>
public sealed class BlobNotFoundException : IOException
{
    public BlobNotFoundException(BlobRef blob, string message) : base(message) => Blob = blob;

    public BlobRef Blob { get; }
}

/// <summary>
/// <see cref="BlobFetcher.EnsureLocalAsync(Akka.Actor.ActorSystem, IBlobStore, BlobRef, Akka.Actor.ICanTell, TimeSpan, CancellationToken, int)"/>
/// gave up. <see cref="Exception.InnerException"/> is the last attempt's failure
/// (<see cref="BlobIntegrityException"/>, <see cref="BlobNotFoundException"/>, <see cref="TimeoutException"/>, a stream failure).
/// </summary>
public sealed class BlobFetchException : Exception
{
    public BlobFetchException(BlobRef blob, int attempts, string message, Exception inner) : base(message, inner)
    {
        Blob = blob;
        Attempts = attempts;
    }

    public BlobRef Blob { get; }

    /// <summary>How many fetches were tried before giving up.</summary>
    public int Attempts { get; }
}

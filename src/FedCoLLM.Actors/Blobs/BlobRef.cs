using System.Security.Cryptography;

namespace FedCoLLM.Actors.Blobs;

/// <summary>
/// Content address of a blob (adapter, weights, logits): lower-case hex SHA-256 of the bytes and their length.
/// Messages and journal events carry this, never the bytes.
/// </summary>
/// <remarks>
/// The constructor validates, but serializers that bypass constructors (Hyperion) can still materialize a
/// malformed instance: code that receives a <see cref="BlobRef"/> from the wire calls <see cref="Validate"/>.
/// </remarks>
public sealed record BlobRef(string Sha256, long Size)
{
    /// <summary>Length of a SHA-256 digest in hex characters.</summary>
    public const int HexLength = 64;

    public string Sha256 { get; } = CheckSha256(Sha256);

    public long Size { get; } = CheckSize(Size);

    /// <summary>The ref of <paramref name="bytes"/>.</summary>
    public static BlobRef Of(ReadOnlySpan<byte> bytes) => new(Hex(SHA256.HashData(bytes)), bytes.Length);

    /// <inheritdoc cref="Of(ReadOnlySpan{byte})"/>
    public static BlobRef Of(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return Of(bytes.AsSpan());
    }

    /// <summary>
    /// Factory for hashes that come from outside (CLI arguments, files): accepts upper-case hex and
    /// surrounding white space, then validates like the constructor.
    /// </summary>
    public static BlobRef Parse(string sha256, long size)
    {
        ArgumentNullException.ThrowIfNull(sha256);
        return new BlobRef(sha256.Trim().ToLowerInvariant(), size);
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless the hash is 64 lower-case hex characters and the size is not negative; returns this.</summary>
    public BlobRef Validate()
    {
        CheckSha256(Sha256);
        CheckSize(Size);
        return this;
    }

    /// <summary>Short form for logs: the first 12 hex characters and the size.</summary>
    public override string ToString() =>
        Sha256 is { Length: >= 12 } ? $"blob {Sha256[..12]} ({Size:N0} B)" : $"blob <malformed '{Sha256}'> ({Size:N0} B)";

    internal static string Hex(ReadOnlySpan<byte> digest) => Convert.ToHexStringLower(digest);

    private static string CheckSha256(string? sha256)
    {
        if (sha256 is null)
            throw new ArgumentNullException(nameof(Sha256), "A blob ref needs a SHA-256 hash; got null.");
        if (sha256.Length != HexLength || !sha256.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
            throw new ArgumentException(
                $"A blob ref's hash must be {HexLength} lower-case hex characters (SHA-256); got '{Truncate(sha256)}' " +
                $"({sha256.Length} characters). Use BlobRef.Parse to accept upper-case input.", nameof(Sha256));
        return sha256;
    }

    private static long CheckSize(long size) =>
        size >= 0 ? size : throw new ArgumentOutOfRangeException(nameof(Size), size, "A blob's size cannot be negative.");

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "…";
}

namespace FedCoLLM.Actors.Blobs;

/// <summary>A content address: lower-case hex SHA-256 and length of a blob.</summary>
public sealed record BlobRef(string Sha256, long Size)
{
    public static BlobRef Of(byte[] bytes) =>
        new(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), bytes.LongLength);

    public override string ToString() => $"{Sha256[..Math.Min(12, Sha256.Length)]}…({Size} B)";
}

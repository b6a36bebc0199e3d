using NSec.Cryptography;

namespace FedCoLLM.Actors.Identity;

/// <summary>
/// A client's Ed25519 public key as a job file enrols it: <c>ed25519:</c> followed by the 32 raw key bytes in base64
/// (what <c>fedcollm keys new</c> writes to <c>ID.pub</c>). One line, so it sits in a job file and in the canonical job
/// definition as a plain string.
/// </summary>
public static class ClientPublicKey
{
    public const string Prefix = "ed25519:";

    public static SignatureAlgorithm Algorithm => SignatureAlgorithm.Ed25519;

    public static string Format(PublicKey key) => Prefix + Convert.ToBase64String(key.Export(KeyBlobFormat.RawPublicKey));

    /// <summary>Null when <paramref name="text"/> is a well-formed key; else what is wrong with it, in words.</summary>
    public static string? Problem(string text)
    {
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
            return $"is not an Ed25519 public key; it must start with \"{Prefix}\" (copy the line `fedcollm keys new` wrote to ID.pub)";
        byte[] raw;
        try { raw = Convert.FromBase64String(text[Prefix.Length..]); }
        catch (FormatException) { return $"is not an Ed25519 public key: the part after \"{Prefix}\" is not base64 (copy the line `fedcollm keys new` wrote to ID.pub)"; }
        if (raw.Length != Algorithm.PublicKeySize)
            return $"is not an Ed25519 public key: it holds {raw.Length} bytes, an Ed25519 key has {Algorithm.PublicKeySize} (copy the line `fedcollm keys new` wrote to ID.pub)";
        return PublicKey.TryImport(Algorithm, raw, KeyBlobFormat.RawPublicKey, out _)
            ? null
            : "is not an Ed25519 public key: the bytes are not a valid curve point (copy the line `fedcollm keys new` wrote to ID.pub)";
    }

    /// <summary>Parses a key that <see cref="Problem"/> accepted; throws <see cref="FormatException"/> otherwise.</summary>
    public static PublicKey Parse(string text) =>
        Problem(text) is { } problem
            ? throw new FormatException($"\"{text}\" {problem}")
            : PublicKey.Import(Algorithm, Convert.FromBase64String(text[Prefix.Length..]), KeyBlobFormat.RawPublicKey);
}

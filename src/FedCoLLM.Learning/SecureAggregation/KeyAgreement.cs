using System.Text;
using NSec.Cryptography;

namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>X25519 key pairs from 32 seed bytes and HKDF-SHA256 over their shared secrets (NSec / libsodium).</summary>
public static class KeyAgreement
{
    static readonly KeyAgreementAlgorithm X25519 = KeyAgreementAlgorithm.X25519;
    static readonly KeyDerivationAlgorithm2 Hkdf = KeyDerivationAlgorithm.HkdfSha256;

    /// <summary>The raw X25519 public key of a 32-byte private key.</summary>
    public static byte[] PublicKeyOf(ReadOnlySpan<byte> privateKey)
    {
        using var key = ImportPrivate(privateKey);
        return key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
    }

    /// <summary>32 bytes from HKDF-SHA256(X25519(mine, theirs), salt = context, info = label ‖ info). X25519 is
    /// symmetric, so both ends of a pair derive the same bytes.</summary>
    public static byte[] Derive(ReadOnlySpan<byte> myPrivateKey, ReadOnlySpan<byte> theirPublicKey, string label, ReadOnlySpan<byte> context, ReadOnlySpan<byte> info)
    {
        using var key = ImportPrivate(myPrivateKey);
        if (!PublicKey.TryImport(X25519, theirPublicKey, KeyBlobFormat.RawPublicKey, out var theirs) || theirs is null)
            throw new SecureAggregationException(SecAggStep.None, $"a peer's X25519 public key ({theirPublicKey.Length} bytes) is malformed.");
        using var shared = X25519.Agree(key, theirs)
            ?? throw new SecureAggregationException(SecAggStep.None, "X25519 key agreement with a peer's public key failed (a low-order point); that peer is not following the protocol.");
        return Hkdf.DeriveBytes(shared, context, Info(label, info), 32);
    }

    /// <summary>32 bytes from HKDF-Expand(seed, label ‖ info): independent sub-seeds of one client seed.</summary>
    public static byte[] Expand(ReadOnlySpan<byte> seed, string label, ReadOnlySpan<byte> info)
    {
        if (seed.Length != 32) throw new ArgumentException($"A seed is 32 bytes; got {seed.Length}.", nameof(seed));
        return Hkdf.Expand(seed, Info(label, info), 32);
    }

    static byte[] Info(string label, ReadOnlySpan<byte> info)
    {
        var l = Encoding.UTF8.GetBytes("fedcollm-secagg/" + label + "/");
        var result = new byte[l.Length + info.Length];
        l.CopyTo(result, 0);
        info.CopyTo(result.AsSpan(l.Length));
        return result;
    }

    static Key ImportPrivate(ReadOnlySpan<byte> privateKey)
    {
        var parameters = new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };
        return Key.Import(X25519, privateKey, KeyBlobFormat.RawPrivateKey, in parameters);
    }
}

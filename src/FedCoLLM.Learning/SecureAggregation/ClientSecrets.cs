using System.Security.Cryptography;

namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>
/// One client's secrets for one round, all derived from a 32-byte seed (HKDF-Expand with distinct labels): the
/// X25519 private keys c (share encryption) and s (pairwise masks), the self-mask seed b, and the seed of the Shamir
/// coefficients. A client draws the seed once per round from the OS RNG (<see cref="NewSeed"/>) and keeps it in its
/// own journal, so that a restarted client reproduces every message it sent byte for byte; tests and benchmarks pass
/// fixed seeds.
/// </summary>
public sealed class ClientSecrets
{
    public int Client { get; }
    internal byte[] CipherPrivateKey { get; }
    internal byte[] MaskPrivateKey { get; }
    internal byte[] SelfMaskSeed { get; }
    internal byte[] ShamirSeed { get; }
    public byte[] CipherPublicKey { get; }
    public byte[] MaskPublicKey { get; }

    public ClientSecrets(int client, ReadOnlySpan<byte> seed, ReadOnlySpan<byte> context)
    {
        if (seed.Length != 32) throw new ArgumentException($"A client's secure-aggregation seed is 32 bytes; got {seed.Length}.", nameof(seed));
        Client = client;
        CipherPrivateKey = KeyAgreement.Expand(seed, "cipher-key", context);
        MaskPrivateKey = KeyAgreement.Expand(seed, "mask-key", context);
        SelfMaskSeed = KeyAgreement.Expand(seed, "self-mask", context);
        ShamirSeed = KeyAgreement.Expand(seed, "shamir", context);
        CipherPublicKey = KeyAgreement.PublicKeyOf(CipherPrivateKey);
        MaskPublicKey = KeyAgreement.PublicKeyOf(MaskPrivateKey);
    }

    public static byte[] NewSeed() => RandomNumberGenerator.GetBytes(32);
}

using System.Buffers.Binary;
using NSec.Cryptography;

namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>
/// The ChaCha20 keystream used as the PRG that expands a 32-byte seed into a mask. Neither NSec nor .NET exposes raw
/// ChaCha20, only the ChaCha20-Poly1305 AEAD (RFC 8439), whose ciphertext is plaintext ⊕ ChaCha20(key, nonce,
/// counter = 1…); encrypting zeros therefore yields exactly the ChaCha20 keystream, and the 16-byte tag is discarded.
/// We use NSec's (libsodium, shipped inside the package) rather than System.Security.Cryptography.ChaCha20Poly1305,
/// whose availability depends on the OS's OpenSSL. The stream is cut into 64 KiB blocks, block i under the 96-bit
/// nonce i (little-endian), so memory stays bounded and any block can be produced on its own; one key never sees a
/// nonce twice because each block index is used once per seed.
/// </summary>
public static class Keystream
{
    public const int BlockBytes = 64 * 1024;
    static readonly AeadAlgorithm Aead = AeadAlgorithm.ChaCha20Poly1305;

    /// <summary>Fills <paramref name="output"/> with the keystream of <paramref name="seed"/> from its start.</summary>
    public static void Fill(ReadOnlySpan<byte> seed, Span<byte> output)
    {
        using var key = ImportKey(seed);
        var zeros = new byte[BlockBytes];
        var buffer = new byte[BlockBytes + Aead.TagSize];
        Span<byte> nonce = stackalloc byte[Aead.NonceSize];
        for (long block = 0, offset = 0; offset < output.Length; block++, offset += BlockBytes)
        {
            int n = (int)Math.Min(BlockBytes, output.Length - offset);
            nonce.Clear();
            BinaryPrimitives.WriteInt64LittleEndian(nonce, block);
            Aead.Encrypt(key, nonce, ReadOnlySpan<byte>.Empty, zeros.AsSpan(0, n), buffer.AsSpan(0, n + Aead.TagSize));
            buffer.AsSpan(0, n).CopyTo(output.Slice((int)offset, n));
        }
    }

    /// <summary>Adds (sign = +1) or subtracts (sign = −1) the seed's keystream, read as little-endian uint32 words,
    /// to <paramref name="words"/> modulo 2^32.</summary>
    public static void AddWords(ReadOnlySpan<byte> seed, Span<uint> words, int sign)
    {
        if (sign is not (1 or -1)) throw new ArgumentOutOfRangeException(nameof(sign), sign, "A mask is added (+1) or subtracted (−1).");
        using var key = ImportKey(seed);
        var zeros = new byte[BlockBytes];
        var buffer = new byte[BlockBytes + Aead.TagSize];
        Span<byte> nonce = stackalloc byte[Aead.NonceSize];
        const int wordsPerBlock = BlockBytes / 4;
        for (long block = 0, start = 0; start < words.Length; block++, start += wordsPerBlock)
        {
            int n = (int)Math.Min(wordsPerBlock, words.Length - start);
            nonce.Clear();
            BinaryPrimitives.WriteInt64LittleEndian(nonce, block);
            Aead.Encrypt(key, nonce, ReadOnlySpan<byte>.Empty, zeros.AsSpan(0, n * 4), buffer.AsSpan(0, n * 4 + Aead.TagSize));
            var target = words.Slice((int)start, n);
            if (sign > 0)
                for (int i = 0; i < n; i++) target[i] += BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(i * 4));
            else
                for (int i = 0; i < n; i++) target[i] -= BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(i * 4));
        }
    }

    static Key ImportKey(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != 32) throw new ArgumentException($"A keystream seed is 32 bytes; got {seed.Length}.", nameof(seed));
        return Key.Import(Aead, seed, KeyBlobFormat.RawSymmetricKey);
    }
}

/// <summary>Reads uniform field elements of GF(2^61 − 1) from a seed's keystream (rejection sampling).</summary>
public sealed class FieldSampler
{
    readonly byte[] stream;
    int position;

    public FieldSampler(ReadOnlySpan<byte> seed, int expectedElements)
    {
        // One extra block covers the (2^−61-likely) rejections; running out is reported, never wrapped.
        stream = new byte[expectedElements * 8 + 64];
        Keystream.Fill(seed, stream);
    }

    public ulong Next()
    {
        while (position + 8 <= stream.Length)
        {
            ulong v = BinaryPrimitives.ReadUInt64LittleEndian(stream.AsSpan(position)) & PrimeField.P;
            position += 8;
            if (v < PrimeField.P) return v;
        }
        throw new InvalidOperationException("FieldSampler ran out of keystream; size it for the elements it must produce.");
    }
}

using System.Buffers.Binary;
using NSec.Cryptography;

namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>
/// The client's side of the protocol (Bonawitz et al. 2017, Fig. 4), one pure function per step: each takes the
/// round's parameters, the client's secrets and what the server sent, and returns what the client sends. Given the
/// same inputs it returns the same bytes, which is what lets a restarted client resume mid-protocol.
/// </summary>
public static class SecAggClient
{
    static readonly AeadAlgorithm Aead = AeadAlgorithm.ChaCha20Poly1305;
    const int SharePlaintextBytes = 8 + 2 * SecretShare.Chunks * 8;

    /// <summary>Step 0: advertise the two public keys.</summary>
    public static KeyAdvertisement AdvertiseKeys(SecAggParameters p, ClientSecrets me)
    {
        p.CheckClient(me.Client, "this client's id");
        return new(me.Client, me.CipherPublicKey, me.MaskPublicKey);
    }

    /// <summary>Step 1: Shamir-share s^SK and b among U1 with threshold m and encrypt each pair of shares for its holder.</summary>
    public static ShareBundle ShareKeys(SecAggParameters p, ClientSecrets me, KeyRoster roster)
    {
        CheckRoster(p, me, roster, SecAggStep.ShareKeys);
        var xs = roster.Ids.ToList();
        var maskKeyShares = ShamirSharing.Share(me.MaskPrivateKey, p.Threshold, xs, KeyAgreement.Expand(me.ShamirSeed, "mask-key-shares", p.Context));
        var selfMaskShares = ShamirSharing.Share(me.SelfMaskSeed, p.Threshold, xs, KeyAgreement.Expand(me.ShamirSeed, "self-mask-shares", p.Context));
        var shares = new List<EncryptedShare>(xs.Count);
        for (int i = 0; i < xs.Count; i++)
        {
            int to = xs[i];
            var plaintext = new byte[SharePlaintextBytes];
            BinaryPrimitives.WriteInt32LittleEndian(plaintext, me.Client);
            BinaryPrimitives.WriteInt32LittleEndian(plaintext.AsSpan(4), to);
            WriteShare(plaintext.AsSpan(8), maskKeyShares[i]);
            WriteShare(plaintext.AsSpan(8 + SecretShare.Chunks * 8), selfMaskShares[i]);
            using var key = ShareKey(p, me, roster.Of(to).CipherPublicKey, me.Client, to);
            shares.Add(new EncryptedShare(me.Client, to, Aead.Encrypt(key, Nonce(me.Client, to), p.Context, plaintext)));
        }
        return new ShareBundle(me.Client, shares);
    }

    /// <summary>Step 2: mask the encoded input with the self mask and with a pairwise mask for every other member
    /// of U2 (the senders of <paramref name="received"/>, as forwarded by the server).</summary>
    public static MaskedInput MaskInput(SecAggParameters p, ClientSecrets me, KeyRoster roster, IReadOnlyList<EncryptedShare> received, ReadOnlySpan<uint> input)
    {
        CheckRoster(p, me, roster, SecAggStep.MaskedInput);
        var u2 = CheckReceived(p, me, roster, received, SecAggStep.MaskedInput);
        if (input.Length != p.VectorLength)
            throw new SecureAggregationException(SecAggStep.MaskedInput, $"client {me.Client}'s encoded input has {input.Length} words; the round's vector has {p.VectorLength}.");
        var y = input.ToArray();
        Keystream.AddWords(me.SelfMaskSeed, y, +1);
        foreach (int v in u2)
        {
            if (v == me.Client) continue;
            var seed = PairwiseSeed(p, me.MaskPrivateKey, roster.Of(v).MaskPublicKey, me.Client, v);
            Keystream.AddWords(seed, y, me.Client < v ? +1 : -1);
        }
        return new MaskedInput(me.Client, y);
    }

    /// <summary>Step 3: reveal, for each survivor, its share of b, and for each dropped client, its share of s^SK —
    /// never both for one client, which would unmask its input.</summary>
    public static UnmaskResponse Unmask(SecAggParameters p, ClientSecrets me, KeyRoster roster, IReadOnlyList<EncryptedShare> received, UnmaskRequest request)
    {
        var u2 = CheckReceived(p, me, roster, received, SecAggStep.Unmasking);
        var survivors = request.Survivors.ToHashSet();
        var dropped = request.Dropped.ToHashSet();
        if (survivors.Overlaps(dropped))
            throw new SecureAggregationException(SecAggStep.Unmasking, $"the server asked client {me.Client} to reveal both masks of client {survivors.Intersect(dropped).First()}; refused, that would expose its input.");
        if (!survivors.Union(dropped).ToHashSet().SetEquals(u2))
            throw new SecureAggregationException(SecAggStep.Unmasking, $"the survivors and dropouts the server named ({survivors.Count} + {dropped.Count}) are not the {u2.Count} clients that shared keys; refused.");
        if (!survivors.Contains(me.Client))
            throw new SecureAggregationException(SecAggStep.Unmasking, $"client {me.Client} is not among the survivors the server named, so its input is not in the sum; it reveals nothing.");
        if (survivors.Count < p.Threshold)
            throw SecureAggregationException.TooFew(p, SecAggStep.Unmasking, survivors.Count, "sent masked inputs");

        var selfMask = new List<RevealedShare>();
        var maskKey = new List<RevealedShare>();
        foreach (var e in received.OrderBy(e => e.From))
        {
            using var key = ShareKey(p, me, roster.Of(e.From).CipherPublicKey, e.From, me.Client);
            var plaintext = Aead.Decrypt(key, Nonce(e.From, me.Client), p.Context, e.Ciphertext)
                ?? throw new SecureAggregationException(SecAggStep.Unmasking, $"the share from client {e.From} to client {me.Client} does not decrypt: it was altered or is from another round.");
            if (BinaryPrimitives.ReadInt32LittleEndian(plaintext) != e.From || BinaryPrimitives.ReadInt32LittleEndian(plaintext.AsSpan(4)) != me.Client)
                throw new SecureAggregationException(SecAggStep.Unmasking, $"the share labelled {e.From} → {me.Client} was encrypted for another pair.");
            if (survivors.Contains(e.From))
                selfMask.Add(new RevealedShare(e.From, ReadShare(plaintext.AsSpan(8 + SecretShare.Chunks * 8), me.Client)));
            else
                maskKey.Add(new RevealedShare(e.From, ReadShare(plaintext.AsSpan(8), me.Client)));
        }
        return new UnmaskResponse(me.Client, selfMask, maskKey);
    }

    internal static byte[] PairwiseSeed(SecAggParameters p, ReadOnlySpan<byte> myMaskPrivateKey, ReadOnlySpan<byte> theirMaskPublicKey, int me, int them)
    {
        Span<byte> pair = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(pair, Math.Min(me, them));
        BinaryPrimitives.WriteInt32LittleEndian(pair[4..], Math.Max(me, them));
        return KeyAgreement.Derive(myMaskPrivateKey, theirMaskPublicKey, "pairwise-mask", p.Context, pair);
    }

    static Key ShareKey(SecAggParameters p, ClientSecrets me, byte[] theirCipherPublicKey, int from, int to)
    {
        Span<byte> pair = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(pair, Math.Min(from, to));
        BinaryPrimitives.WriteInt32LittleEndian(pair[4..], Math.Max(from, to));
        var bytes = KeyAgreement.Derive(me.CipherPrivateKey, theirCipherPublicKey, "share-key", p.Context, pair);
        return Key.Import(Aead, bytes, KeyBlobFormat.RawSymmetricKey);
    }

    /// <summary>The pair's key is symmetric, so the direction goes into the nonce: u → v and v → u never share one.</summary>
    static byte[] Nonce(int from, int to)
    {
        var nonce = new byte[Aead.NonceSize];
        BinaryPrimitives.WriteInt32LittleEndian(nonce, from);
        BinaryPrimitives.WriteInt32LittleEndian(nonce.AsSpan(4), to);
        return nonce;
    }

    static void CheckRoster(SecAggParameters p, ClientSecrets me, KeyRoster roster, SecAggStep step)
    {
        p.CheckClient(me.Client, "this client's id");
        if (!roster.Contains(me.Client))
            throw new SecureAggregationException(step, $"client {me.Client} is not in the key roster the server sent; it sat out this round.");
        var mine = roster.Of(me.Client);
        if (!mine.CipherPublicKey.AsSpan().SequenceEqual(me.CipherPublicKey) || !mine.MaskPublicKey.AsSpan().SequenceEqual(me.MaskPublicKey))
            throw new SecureAggregationException(step, $"the key roster lists other public keys for client {me.Client} than it advertised; refused.");
        if (roster.Members.Count < p.Threshold)
            throw SecureAggregationException.TooFew(p, step, roster.Members.Count, "advertised keys");
    }

    static HashSet<int> CheckReceived(SecAggParameters p, ClientSecrets me, KeyRoster roster, IReadOnlyList<EncryptedShare> received, SecAggStep step)
    {
        var from = new HashSet<int>();
        foreach (var e in received)
        {
            if (e.To != me.Client)
                throw new SecureAggregationException(step, $"client {me.Client} was forwarded a share addressed to client {e.To}.");
            if (!roster.Contains(e.From))
                throw new SecureAggregationException(step, $"client {me.Client} was forwarded a share from client {e.From}, who is not in the key roster.");
            if (!from.Add(e.From))
                throw new SecureAggregationException(step, $"client {me.Client} was forwarded two shares from client {e.From}.");
        }
        if (!from.Contains(me.Client))
            throw new SecureAggregationException(step, $"client {me.Client}'s own share bundle is not among those forwarded to it, so the server did not count it in U2.");
        if (from.Count < p.Threshold)
            throw SecureAggregationException.TooFew(p, step, from.Count, "shared their keys");
        return from;
    }

    static void WriteShare(Span<byte> target, SecretShare share)
    {
        for (int c = 0; c < SecretShare.Chunks; c++) BinaryPrimitives.WriteUInt64LittleEndian(target[(c * 8)..], share.Y[c]);
    }

    static SecretShare ReadShare(ReadOnlySpan<byte> source, int x)
    {
        var y = new ulong[SecretShare.Chunks];
        for (int c = 0; c < SecretShare.Chunks; c++) y[c] = BinaryPrimitives.ReadUInt64LittleEndian(source[(c * 8)..]);
        return new SecretShare(x, y);
    }
}

namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>One Shamir share of a 32-byte secret: the x-coordinate (a client id ≥ 1) and one field element per chunk.</summary>
public sealed record SecretShare(int X, ulong[] Y)
{
    public const int Chunks = 5;
}

/// <summary>
/// Shamir secret sharing (1979) of 32-byte secrets over GF(2^61 − 1). The secret is cut into five 7-byte chunks
/// (the last one 4 bytes), each below p, and every chunk gets its own random polynomial of degree threshold − 1
/// with the chunk as constant term; share x holds the five polynomials evaluated at x. Any threshold shares give the
/// secret back by Lagrange interpolation at 0; fewer reveal nothing about it.
/// </summary>
public static class ShamirSharing
{
    const int ChunkBytes = 7;

    /// <summary>Shares <paramref name="secret"/> at the given x-coordinates; the coefficients come from
    /// <paramref name="coefficientSeed"/>'s keystream, so the shares are a function of the inputs.</summary>
    public static IReadOnlyList<SecretShare> Share(ReadOnlySpan<byte> secret, int threshold, IReadOnlyList<int> xs, ReadOnlySpan<byte> coefficientSeed)
    {
        if (secret.Length != 32) throw new ArgumentException($"Shamir sharing takes 32-byte secrets; got {secret.Length}.", nameof(secret));
        if (threshold < 1) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The reconstruction threshold is at least 1.");
        if (xs.Count < threshold)
            throw new ArgumentException($"Sharing with threshold {threshold} among only {xs.Count} holders could never be reconstructed.", nameof(xs));
        if (xs.Any(x => x < 1) || xs.Distinct().Count() != xs.Count)
            throw new ArgumentException("Share x-coordinates must be distinct and ≥ 1 (x = 0 is the secret).", nameof(xs));

        var sampler = new FieldSampler(coefficientSeed, SecretShare.Chunks * (threshold - 1));
        var coefficients = new ulong[SecretShare.Chunks, threshold];
        for (int c = 0; c < SecretShare.Chunks; c++)
        {
            coefficients[c, 0] = Chunk(secret, c);
            for (int d = 1; d < threshold; d++) coefficients[c, d] = sampler.Next();
        }
        var shares = new SecretShare[xs.Count];
        for (int s = 0; s < xs.Count; s++)
        {
            var y = new ulong[SecretShare.Chunks];
            ulong x = (ulong)xs[s];
            for (int c = 0; c < SecretShare.Chunks; c++)
            {
                ulong acc = 0; // Horner from the highest degree down.
                for (int d = threshold - 1; d >= 0; d--) acc = PrimeField.Add(PrimeField.Mul(acc, x), coefficients[c, d]);
                y[c] = acc;
            }
            shares[s] = new SecretShare(xs[s], y);
        }
        return shares;
    }

    /// <summary>The secret from the first <paramref name="threshold"/> shares in x order (a deterministic choice).</summary>
    public static byte[] Reconstruct(IReadOnlyList<SecretShare> shares, int threshold)
    {
        if (shares.Select(s => s.X).Distinct().Count() != shares.Count)
            throw new ArgumentException("Shamir reconstruction got two shares with the same x-coordinate.", nameof(shares));
        if (shares.Count < threshold)
            throw new ArgumentException($"Shamir reconstruction needs {threshold} shares; got {shares.Count}.", nameof(shares));
        var used = shares.OrderBy(s => s.X).Take(threshold).ToArray();
        var secret = new byte[32];
        for (int c = 0; c < SecretShare.Chunks; c++)
        {
            ulong acc = 0;
            for (int i = 0; i < used.Length; i++)
            {
                // Lagrange basis at 0: Π_{j≠i} x_j / (x_j − x_i).
                ulong num = 1, den = 1, xi = (ulong)used[i].X;
                for (int j = 0; j < used.Length; j++)
                {
                    if (j == i) continue;
                    ulong xj = (ulong)used[j].X;
                    num = PrimeField.Mul(num, xj);
                    den = PrimeField.Mul(den, PrimeField.Sub(xj, xi));
                }
                acc = PrimeField.Add(acc, PrimeField.Mul(used[i].Y[c], PrimeField.Mul(num, PrimeField.Inverse(den))));
            }
            WriteChunk(secret, c, acc);
        }
        return secret;
    }

    static ulong Chunk(ReadOnlySpan<byte> secret, int c)
    {
        ulong v = 0;
        int start = c * ChunkBytes, end = Math.Min(start + ChunkBytes, secret.Length);
        for (int i = end - 1; i >= start; i--) v = (v << 8) | secret[i];
        return v;
    }

    static void WriteChunk(Span<byte> secret, int c, ulong v)
    {
        int start = c * ChunkBytes, end = Math.Min(start + ChunkBytes, secret.Length);
        for (int i = start; i < end; i++) { secret[i] = (byte)v; v >>= 8; }
        if (v != 0) throw new InvalidOperationException("Shamir reconstruction gave a chunk wider than it was shared: the shares are inconsistent.");
    }
}

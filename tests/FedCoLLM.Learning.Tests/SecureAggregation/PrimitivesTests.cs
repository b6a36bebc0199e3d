using System.Security.Cryptography;
using System.Text;
using FedCoLLM.Learning.SecureAggregation;

namespace FedCoLLM.Learning.Tests.SecureAggregation;

public class PrimitivesTests
{
    static byte[] Seed(string label) => SHA256.HashData(Encoding.UTF8.GetBytes(label));

    [Fact]
    public void Keystream_is_the_ChaCha20_keystream_of_RFC_8439()
    {
        // RFC 8439 A.1 test vector #2: key 0, nonce 0, block counter 1 — the first block AEAD encryption uses.
        var stream = new byte[64];
        Keystream.Fill(new byte[32], stream);
        Assert.Equal("9F07E7BE5551387A98BA977C732D080DCB0F29A048E3656912C6533E32EE7AED", Convert.ToHexString(stream, 0, 32));
    }

    [Fact]
    public void Keystream_blocks_continue_under_the_next_nonce_and_AddWords_matches_Fill()
    {
        var seed = Seed("ks");
        int words = Keystream.BlockBytes / 4 + 100; // spans two nonces
        var bytes = new byte[words * 4];
        Keystream.Fill(seed, bytes);
        Assert.NotEqual(bytes.AsSpan(0, 64).ToArray(), bytes.AsSpan(Keystream.BlockBytes, 64).ToArray());
        var w = new uint[words];
        Keystream.AddWords(seed, w, +1);
        for (int i = 0; i < words; i++) Assert.Equal(BitConverter.ToUInt32(bytes, i * 4), w[i]);
        Keystream.AddWords(seed, w, -1);
        Assert.All(w, x => Assert.Equal(0u, x));
    }

    [Fact]
    public void Field_inverse_and_reduction_are_correct()
    {
        foreach (ulong a in new ulong[] { 1, 2, 12345, PrimeField.P - 1, 1UL << 60 })
            Assert.Equal(1UL, PrimeField.Mul(a, PrimeField.Inverse(a)));
        Assert.Equal((ulong)((UInt128)(PrimeField.P - 1) * (PrimeField.P - 2) % PrimeField.P), PrimeField.Mul(PrimeField.P - 1, PrimeField.P - 2));
    }

    [Fact]
    public void Any_threshold_shares_reconstruct_the_secret_and_fewer_cannot()
    {
        var secret = Seed("secret");
        var xs = Enumerable.Range(1, 7).ToList();
        var shares = ShamirSharing.Share(secret, 4, xs, Seed("coeffs"));
        foreach (var subset in new[] { new[] { 0, 1, 2, 3 }, new[] { 6, 4, 2, 0 }, new[] { 1, 3, 5, 6 }, new[] { 0, 1, 2, 3, 4, 5, 6 } })
            Assert.Equal(secret, ShamirSharing.Reconstruct(subset.Select(i => shares[i]).ToList(), 4));
        Assert.Throws<ArgumentException>(() => ShamirSharing.Reconstruct(shares.Take(3).ToList(), 4));
        // Three shares interpolated as if the threshold were 3 give some other value, not the secret.
        Assert.NotEqual(secret, Reconstruct3(shares));
        // An altered share gives a different secret (or is detected as inconsistent).
        var bad = shares.Take(4).Select(s => s with { Y = [.. s.Y] }).ToList();
        bad[2].Y[1] = PrimeField.Add(bad[2].Y[1], 1);
        try { Assert.NotEqual(secret, ShamirSharing.Reconstruct(bad, 4)); }
        catch (InvalidOperationException) { }
    }

    static byte[]? Reconstruct3(IReadOnlyList<SecretShare> shares)
    {
        try { return ShamirSharing.Reconstruct(shares.Take(3).ToList(), 3); }
        catch (InvalidOperationException) { return null; }
    }

    [Fact]
    public void Fixed_point_scale_keeps_the_worst_case_sum_inside_int32()
    {
        var fp = new FixedPoint(clip: 0.5, maxSamplesPerClient: 1000, clients: 16);
        Assert.True(fp.Scale * fp.Clip * 16 * 1000 + 8 <= int.MaxValue);
        Assert.True(2 * fp.Scale * fp.Clip * 16 * 1000 + 8 > int.MaxValue); // the largest such power of two
        // 16 clients at the clip with the most samples, positive and negative: no wrap.
        foreach (double sign in new[] { 1.0, -1.0 })
        {
            var sum = new uint[2];
            var words = new uint[2];
            for (int k = 0; k < 16; k++)
            {
                fp.Encode(1000, [sign * 7.0], words); // clipped to ±0.5
                sum[0] += words[0]; sum[1] += words[1];
            }
            var (total, mean) = fp.Decode(sum);
            Assert.Equal(16000, total);
            Assert.InRange(Math.Abs(mean[0] - sign * 0.5), 0, fp.MeanErrorBound(16, 16000));
        }
    }

    [Fact]
    public void Fixed_point_rejects_what_it_cannot_encode_and_names_the_job_field()
    {
        var fp = new FixedPoint(1.0, 100, 4);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => fp.Encode(101, [0.0], new uint[2]));
        Assert.Contains("secure-aggregation-max-samples", e.Message);
        Assert.Throws<ArgumentException>(() => fp.Encode(10, [double.NaN], new uint[2]));
        var tooWide = Assert.Throws<ArgumentException>(() => new FixedPoint(1000.0, 1_000_000, 64));
        Assert.Contains("secure-aggregation-clip", tooWide.Message);
    }
}

namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>
/// The fixed-point encoding of one client's weighted update into Z_{2^32}. Word 0 is n_k; word 1 + i is
/// round(S · n_k · clip(Δ_i, −C, C)) as a two's-complement int32, where C is the clip and S = 2^f the scale. f is the
/// largest integer with C · K · N · 2^f + K/2 ≤ 2^31 − 1 (N = the per-client sample cap), so the sum over any K
/// clients can neither wrap nor exceed int32: decoding is exact up to rounding. Rounding after multiplying by n_k
/// makes the error of the weighted mean at most K / (2 · S · Σn) per coordinate (<see cref="MeanErrorBound"/>),
/// independent of how the weight is split between clients.
/// </summary>
public sealed class FixedPoint
{
    /// <summary>Fewer than 8 fractional bits would round most LoRA updates (|Δ| ≈ 1e-3…1e-1) to zero.</summary>
    public const int MinFractionBits = 8;

    public double Clip { get; }
    public long MaxSamplesPerClient { get; }
    public int Clients { get; }
    public int FractionBits { get; }
    public double Scale => Math.ScaleB(1.0, FractionBits);

    public FixedPoint(double clip, long maxSamplesPerClient, int clients)
    {
        if (!(clip > 0) || !double.IsFinite(clip))
            throw new ArgumentOutOfRangeException(nameof(clip), clip, "secure-aggregation-clip must be a positive finite number (the largest |Δ| a coordinate keeps).");
        if (maxSamplesPerClient < 1)
            throw new ArgumentOutOfRangeException(nameof(maxSamplesPerClient), maxSamplesPerClient, "secure-aggregation-max-samples must be ≥ 1.");
        if (clients < 1) throw new ArgumentOutOfRangeException(nameof(clients), clients, "At least one client.");
        Clip = clip; MaxSamplesPerClient = maxSamplesPerClient; Clients = clients;
        if ((double)maxSamplesPerClient * clients > uint.MaxValue)
            throw new ArgumentException($"K · secure-aggregation-max-samples = {clients} · {maxSamplesPerClient} overflows the 32-bit count word; lower secure-aggregation-max-samples.");
        double room = (int.MaxValue - clients / 2.0 - 1) / (clip * clients * maxSamplesPerClient);
        FractionBits = (int)Math.Floor(Math.Log2(room));
        if (Math.ScaleB(1.0, FractionBits) > room) FractionBits--; // log2 rounding at an exact power of two
        if (FractionBits < MinFractionBits)
            throw new ArgumentException(
                $"Secure aggregation: clip {clip} × {clients} clients × {maxSamplesPerClient} samples leaves only 2^{FractionBits} of scale in 32-bit words " +
                $"(needs ≥ 2^{MinFractionBits}); lower secure-aggregation-clip or secure-aggregation-max-samples in the job file.");
    }

    /// <summary>Encodes n and n · clip(Δ) into <paramref name="words"/> (length Δ.Length + 1).</summary>
    public void Encode(long sampleCount, ReadOnlySpan<double> delta, Span<uint> words)
    {
        if (sampleCount < 1 || sampleCount > MaxSamplesPerClient)
            throw new ArgumentOutOfRangeException(nameof(sampleCount), sampleCount,
                $"A client's n_k must lie in [1, {MaxSamplesPerClient}] (secure-aggregation-max-samples); raise it in the job file.");
        if (words.Length != delta.Length + 1)
            throw new ArgumentException($"Encoding {delta.Length} values needs {delta.Length + 1} words; got {words.Length}.");
        words[0] = (uint)sampleCount;
        double factor = Scale * sampleCount;
        for (int i = 0; i < delta.Length; i++)
        {
            double d = delta[i];
            if (!double.IsFinite(d)) throw new ArgumentException($"Secure aggregation: update coordinate {i} is {d}; a diverged client must be dropped, not aggregated.");
            words[i + 1] = (uint)(int)Math.Round(factor * Math.Clamp(d, -Clip, Clip), MidpointRounding.ToEven);
        }
    }

    /// <summary>Σn and the weighted mean Σ n_k·clip(Δ_k) / Σn from a sum of encodings.</summary>
    public (long TotalSamples, double[] Mean) Decode(ReadOnlySpan<uint> sum)
    {
        if (sum.Length < 1) throw new ArgumentException("A secure-aggregation sum has at least the count word.");
        long total = sum[0];
        if (total < 1) throw new InvalidOperationException("The unmasked sample count is 0: the sum is not a sum of valid encodings.");
        var mean = new double[sum.Length - 1];
        double denominator = Scale * total;
        for (int i = 0; i < mean.Length; i++) mean[i] = (int)sum[i + 1] / denominator;
        return (total, mean);
    }

    /// <summary>The largest |decoded mean − exact weighted mean of the clipped updates| for <paramref name="clients"/>
    /// contributions totalling <paramref name="totalSamples"/>.</summary>
    public double MeanErrorBound(int clients, long totalSamples) => clients / (2.0 * Scale * totalSamples);
}

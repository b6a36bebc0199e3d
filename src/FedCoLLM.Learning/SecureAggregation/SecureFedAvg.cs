using System.Collections.Immutable;
using System.Runtime.InteropServices;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;

namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>
/// FedAvg through secure aggregation. Each client encodes Δ_k = φ_k − φ_ref (its adapter minus the adapter the round
/// started from, which every party holds) weighted by n_k; the unmasked sum gives Σn and Σ n_k·Δ_k, and the new
/// adapter is φ_ref + Σ n_k·Δ_k / Σn, which is FedAvg's Σ w_k·φ_k up to the quantization bound of
/// <see cref="FixedPoint.MeanErrorBound"/> plus one float32 rounding (and exactly the clipped update when some
/// |Δ| exceeds the clip). Coordinates run over the adapter's keys in ordinal order, each matrix row-major.
/// </summary>
public static class SecureFedAvg
{
    /// <summary>Words per client: n_k plus one per adapter parameter.</summary>
    public static int VectorLength(AdapterWeights layout) => checked((int)(layout.ParameterCount + 1));

    public static uint[] Encode(FixedPoint codec, AdapterWeights reference, ClientAdapter client)
    {
        CheckLayout(reference, client.Weights);
        var delta = new double[reference.ParameterCount];
        int offset = 0;
        foreach (var name in reference.Names)
        {
            var r = reference[name].Values.AsSpan();
            var x = client.Weights[name].Values.AsSpan();
            for (int i = 0; i < r.Length; i++) delta[offset + i] = (double)x[i] - r[i];
            offset += r.Length;
        }
        var words = new uint[delta.Length + 1];
        codec.Encode(client.SampleCount, delta, words);
        return words;
    }

    /// <summary>φ_ref + the decoded weighted mean update, rounded once to float32; also returns Σn.</summary>
    public static (AdapterWeights Weights, long TotalSamples) Decode(FixedPoint codec, AdapterWeights reference, ReadOnlySpan<uint> sum)
    {
        if (sum.Length != reference.ParameterCount + 1)
            throw new ArgumentException($"The secure-aggregation sum has {sum.Length} words; the adapter needs {reference.ParameterCount + 1}.");
        var (total, mean) = codec.Decode(sum);
        var tensors = new List<AdapterTensor>(reference.Count);
        int offset = 0;
        foreach (var t in reference.Tensors)
        {
            var r = t.Values.AsSpan();
            var values = new float[r.Length];
            for (int i = 0; i < r.Length; i++) values[i] = (float)(r[i] + mean[offset + i]);
            offset += r.Length;
            tensors.Add(new AdapterTensor(t.Name, t.Shape, ImmutableCollectionsMarshal.AsImmutableArray(values)));
        }
        return (new AdapterWeights(tensors), total);
    }

    static void CheckLayout(AdapterWeights reference, AdapterWeights client)
    {
        if (!reference.Names.SequenceEqual(client.Names, StringComparer.Ordinal))
            throw new ArgumentException("Secure aggregation: the client's adapter keys differ from the round's reference adapter; all clients must train LoRA with the same target_modules on the same model.");
        foreach (var name in reference.Names)
            if (!reference[name].ShapeEquals(client[name]))
                throw new ArgumentException($"Secure aggregation: key '{name}' has shape {AdapterTensor.ShapeText(client[name].Shape)} at the client but {AdapterTensor.ShapeText(reference[name].Shape)} in the reference adapter; all clients must use the same LoRA rank r and model.");
    }
}

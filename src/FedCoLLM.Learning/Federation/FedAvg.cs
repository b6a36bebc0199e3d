using System.Collections.Immutable;
using System.Runtime.InteropServices;
using FedCoLLM.Learning.Lora;

namespace FedCoLLM.Learning.Federation;

/// <summary>One client's contribution to a round: its adapter and n_k, the size of its private set.</summary>
public sealed record ClientAdapter(AdapterWeights Weights, long SampleCount);

/// <summary>
/// FedAvg over LoRA adapters (McMahan et al. 2017; FedCoLLM §1.5): φ̄ = Σ_k w_k·φ_k with
/// w_k = n_k / Σ_j n_j, applied to every matrix separately — A and B are averaged on their own, as
/// FATE's aggregator does, not the products B·A. Sums run in float64 in client order (FATE converts
/// to float64 before aggregating) and the result is rounded once to float32, so the output is
/// deterministic and FedAvg of identical adapters is that adapter, bit for bit.
/// </summary>
public static class FedAvg
{
    /// <summary>w_k = n_k / Σ_j n_j, in float64.</summary>
    public static double[] Weights(IReadOnlyList<long> sampleCounts)
    {
        if (sampleCounts.Count == 0)
            throw new ArgumentException("FedAvg needs at least one client; got none.", nameof(sampleCounts));
        long total = 0;
        for (int k = 0; k < sampleCounts.Count; k++)
        {
            if (sampleCounts[k] <= 0)
                throw new ArgumentException($"FedAvg: client {k} reports SampleCount = {sampleCounts[k]}; a client's weight n_k must be a positive number of training samples.", nameof(sampleCounts));
            try { total = checked(total + sampleCounts[k]); }
            catch (OverflowException)
            { throw new ArgumentException($"FedAvg: the sample counts overflow a 64-bit sum at client {k} (SampleCount = {sampleCounts[k]}); report real dataset sizes.", nameof(sampleCounts)); }
        }
        return sampleCounts.Select(n => (double)n / total).ToArray();
    }

    /// <summary>FedAvg of serialized adapters (<see cref="AdapterWeights.ToBytes"/>), in the order given: what the aggregator
    /// runs for a round and what <c>fedcollm audit</c> recomputes from the journaled inputs, byte for byte.</summary>
    /// <param name="dtype">The dtype the average is written in (the job's adapter wire dtype); the sum runs in float32 on
    /// the widened inputs either way.</param>
    public static byte[] AggregateBytes(IReadOnlyList<(byte[] Adapter, long SampleCount)> updates, AdapterWireDtype dtype = AdapterWireDtype.Float32)
    {
        ArgumentNullException.ThrowIfNull(updates);
        if (updates.Count == 0)
            throw new ArgumentException("Aggregate needs at least one client update; got none.", nameof(updates));
        var clients = updates.Select((u, k) => new ClientAdapter(
            AdapterWeights.FromBytes(u.Adapter ?? throw new ArgumentException($"Update {k} has no adapter bytes.", nameof(updates)), $"client update {k}"),
            u.SampleCount)).ToList();
        return Aggregate(clients).ToBytes(dtype);
    }

    public static AdapterWeights Aggregate(IReadOnlyList<ClientAdapter> clients)
    {
        ArgumentNullException.ThrowIfNull(clients);
        if (clients.Count == 0)
            throw new ArgumentException("FedAvg needs at least one client adapter; got none.", nameof(clients));
        var w = Weights(clients.Select(c => c.SampleCount).ToList());
        CheckSameLayout(clients);

        var reference = clients[0].Weights;
        var result = new List<AdapterTensor>(reference.Count);
        foreach (var name in reference.Names)
        {
            var inputs = clients.Select(c => c.Weights[name].Values).ToArray();
            for (int k = 0; k < inputs.Length; k++)
                CheckFinite(inputs[k].AsSpan(), k, name);
            var acc = new double[inputs[0].Length];
            // Start from client 0's term rather than 0.0, so identical −0 entries stay −0.
            var x0 = inputs[0].AsSpan();
            for (int i = 0; i < acc.Length; i++) acc[i] = w[0] * x0[i];
            for (int k = 1; k < inputs.Length; k++)
            {
                var xk = inputs[k].AsSpan();
                double wk = w[k];
                for (int i = 0; i < acc.Length; i++) acc[i] += wk * xk[i];
            }
            var mean = new float[acc.Length];
            for (int i = 0; i < acc.Length; i++) mean[i] = (float)acc[i];
            result.Add(new AdapterTensor(name, reference[name].Shape, ImmutableCollectionsMarshal.AsImmutableArray(mean)));
        }
        return new AdapterWeights(result);
    }

    static void CheckSameLayout(IReadOnlyList<ClientAdapter> clients)
    {
        var reference = clients[0].Weights;
        for (int k = 1; k < clients.Count; k++)
        {
            var other = clients[k].Weights;
            var missing = reference.Names.FirstOrDefault(n => !other.Contains(n));
            if (missing is not null)
                throw new ArgumentException($"FedAvg: client {k}'s adapter lacks key '{missing}' that client 0's has; all clients must train LoRA with the same target_modules on the same model.");
            var extra = other.Names.FirstOrDefault(n => !reference.Contains(n));
            if (extra is not null)
                throw new ArgumentException($"FedAvg: client {k}'s adapter has key '{extra}' that client 0's lacks; all clients must train LoRA with the same target_modules on the same model.");
            foreach (var name in reference.Names)
                if (!reference[name].ShapeEquals(other[name]))
                    throw new ArgumentException($"FedAvg: key '{name}' has shape {Shape(other[name])} at client {k} but {Shape(reference[name])} at client 0; all clients must use the same LoRA rank r and model.");
        }
    }

    static void CheckFinite(ReadOnlySpan<float> values, int client, string name)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new ArgumentException($"FedAvg: client {client}'s key '{name}' holds {values[i]} at flat index {i}; a diverged client must be dropped from the round, not averaged.");
    }

    static string Shape(AdapterTensor t) => "[" + string.Join(", ", t.Shape) + "]";
}

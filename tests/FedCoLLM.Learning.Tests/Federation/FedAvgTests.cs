using System.Collections.Immutable;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;

namespace FedCoLLM.Learning.Tests.Federation;

public class FedAvgTests
{
    const string KeyA = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
    const string KeyB = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";

    static AdapterWeights Adapter(int seed, int rank = 2, float? poison = null)
    {
        var rng = new Random(seed);
        AdapterTensor Make(string name, long rows, long cols)
        {
            var v = new float[rows * cols];
            for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
            if (poison is { } p) v[^1] = p;
            return new AdapterTensor(name, [rows, cols], ImmutableArray.Create(v));
        }
        return new AdapterWeights([Make(KeyA, rank, 8), Make(KeyB, 8, rank)]);
    }

    [Fact]
    public void FedAvg_of_identical_adapters_is_that_adapter_bit_for_bit()
    {
        var a = Adapter(1);
        var avg = FedAvg.Aggregate([new(a, 3), new(a, 5), new(a, 7), new(a, 1_000_003)]);
        Assert.True(avg.BitwiseEquals(a));
        Assert.Equal(a.ToBytes(), avg.ToBytes());
    }

    [Fact]
    public void Aggregation_weights_clients_by_sample_count()
    {
        var clients = new ClientAdapter[] { new(Adapter(1), 10), new(Adapter(2), 30), new(Adapter(3), 60) };
        var avg = FedAvg.Aggregate(clients);
        foreach (var name in new[] { KeyA, KeyB })
        {
            var values = avg[name].Values;
            for (int i = 0; i < values.Length; i++)
            {
                double expected = 0.1 * clients[0].Weights[name].Values[i]
                                + 0.3 * clients[1].Weights[name].Values[i]
                                + 0.6 * clients[2].Weights[name].Values[i];
                Assert.Equal((float)expected, values[i], tolerance: 1e-7f);
            }
        }
    }

    [Fact]
    public void FedAvg_averages_A_and_B_separately_not_their_product()
    {
        // Two clients with equal weight: mean(B)·mean(A) ≠ mean(B·A) in general; we return the former.
        var a1 = Adapter(1); var a2 = Adapter(2);
        var avg = FedAvg.Aggregate([new(a1, 1), new(a2, 1)]);
        for (int i = 0; i < avg[KeyA].Values.Length; i++)
            Assert.Equal((float)(0.5 * a1[KeyA].Values[i] + 0.5 * a2[KeyA].Values[i]), avg[KeyA].Values[i]);
        Assert.Equal([8L, 2L], avg[KeyB].Shape.ToArray());
    }

    [Fact]
    public void Weights_are_sample_counts_over_their_sum()
    {
        Assert.Equal([0.25, 0.75], FedAvg.Weights([1, 3]));
    }

    [Fact]
    public void FedAvg_rejects_mismatched_keys_naming_client_and_key()
    {
        var full = Adapter(1);
        var partial = new AdapterWeights(full.Tensors.Where(t => t.Name != KeyB));
        var ex = Assert.Throws<ArgumentException>(() => FedAvg.Aggregate([new(full, 1), new(partial, 1)]));
        Assert.Contains("client 1", ex.Message);
        Assert.Contains(KeyB, ex.Message);
        ex = Assert.Throws<ArgumentException>(() => FedAvg.Aggregate([new(partial, 1), new(full, 1)]));
        Assert.Contains(KeyB, ex.Message);
    }

    [Fact]
    public void FedAvg_rejects_mismatched_shapes_naming_client_and_key()
    {
        var ex = Assert.Throws<ArgumentException>(() => FedAvg.Aggregate([new(Adapter(1), 1), new(Adapter(2), 1), new(Adapter(3, rank: 4), 1)]));
        Assert.Contains("client 2", ex.Message);
        Assert.Contains(KeyA, ex.Message);
        Assert.Contains("[4, 8]", ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void FedAvg_rejects_non_positive_sample_counts(long n)
    {
        var ex = Assert.Throws<ArgumentException>(() => FedAvg.Aggregate([new(Adapter(1), 4), new(Adapter(2), n)]));
        Assert.Contains("client 1", ex.Message);
        Assert.Contains($"SampleCount = {n}", ex.Message);
    }

    [Fact]
    public void FedAvg_rejects_overflowing_sample_counts()
    {
        var ex = Assert.Throws<ArgumentException>(() => FedAvg.Aggregate([new(Adapter(1), long.MaxValue), new(Adapter(2), 1)]));
        Assert.Contains("overflow", ex.Message);
    }

    [Fact]
    public void FedAvg_rejects_empty_input()
    {
        Assert.Throws<ArgumentException>(() => FedAvg.Aggregate([]));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void FedAvg_rejects_non_finite_values_naming_client_and_key(float bad)
    {
        var ex = Assert.Throws<ArgumentException>(() => FedAvg.Aggregate([new(Adapter(1), 1), new(Adapter(2, poison: bad), 1)]));
        Assert.Contains("client 1", ex.Message);
        Assert.Contains(KeyA, ex.Message);
    }
}

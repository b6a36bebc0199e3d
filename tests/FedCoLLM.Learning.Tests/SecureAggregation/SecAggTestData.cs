using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.SecureAggregation;

namespace FedCoLLM.Learning.Tests.SecureAggregation;

/// <summary>Seeded clients, adapters and contexts for the protocol tests.</summary>
static class SecAggTestData
{
    public static byte[] Context(int attempt = 1) => Encoding.UTF8.GetBytes($"job=test;round=3;attempt={attempt}");

    public static ClientSecrets[] Clients(int k, byte[] context, string salt = "") =>
        Enumerable.Range(1, k).Select(i => new ClientSecrets(i, SHA256.HashData(Encoding.UTF8.GetBytes($"client-seed-{salt}{i}")), context)).ToArray();

    public static AdapterWeights Reference(int rank = 4) => Adapter(new Random(1000), rank, 1.0f);

    /// <summary>A client's adapter: the reference plus a small update, as after local training.</summary>
    public static AdapterWeights Trained(AdapterWeights reference, int seed, float step = 0.05f)
    {
        var rng = new Random(seed);
        return new AdapterWeights(reference.Tensors.Select(t => new AdapterTensor(t.Name, t.Shape,
            ImmutableArray.CreateRange(t.Values.Select(v => v + step * (float)(rng.NextDouble() * 2 - 1))))));
    }

    static AdapterWeights Adapter(Random rng, int rank, float scale)
    {
        AdapterTensor Make(string name, long rows, long cols) => new(name, [rows, cols],
            ImmutableArray.CreateRange(Enumerable.Range(0, (int)(rows * cols)).Select(_ => scale * (float)(rng.NextDouble() * 2 - 1))));
        return new AdapterWeights([
            Make("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", rank, 32),
            Make("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight", 96, rank),
            Make("base_model.model.transformer.h.1.attn.c_attn.lora_A.weight", rank, 32),
            Make("base_model.model.transformer.h.1.attn.c_attn.lora_B.weight", 96, rank),
        ]);
    }

    public static ClientAdapter[] TrainedClients(AdapterWeights reference, int k) =>
        Enumerable.Range(1, k).Select(i => new ClientAdapter(Trained(reference, i), 50 + 37 * i)).ToArray();
}

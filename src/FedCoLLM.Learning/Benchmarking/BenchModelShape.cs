using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Tokenization;

namespace FedCoLLM.Learning.Benchmarking;

/// <summary>
/// The named GPT-2 shapes <c>fedcollm bench round</c> builds: real-size architectures with random weights, all on
/// GPT-2's 50 257-token vocabulary (<see cref="Gpt2Vocabulary"/>), so their cost is the cost of the real models.
/// <list type="bullet">
/// <item><c>gpt2-124m-shape</c>: GPT-2 small exactly (12 layers, d 768, 12 heads, n_ctx 1024): 124.4 M parameters
/// (38.6 M token embedding, tied to the LM head; 85.0 M in the blocks).</item>
/// <item><c>gpt2-30m-shape</c>: 6 layers, d 384, 6 heads, n_ctx 1024 (half GPT-2 small's depth and width, as
/// DistilGPT-2 halves its depth): 30.3 M parameters (19.3 M embedding, 10.6 M in the blocks).</item>
/// <item><c>tiny</c>: 2 layers, d 64, 2 heads, n_ctx 128: 3.3 M parameters, almost all embedding; a smoke test.</item>
/// </list>
/// </summary>
public sealed record BenchModelShape(string Name, int Layers, int Width, int Heads, int Context)
{
    public static IReadOnlyList<BenchModelShape> All { get; } =
    [
        new("gpt2-124m-shape", 12, 768, 12, 1024),
        new("gpt2-30m-shape", 6, 384, 6, 1024),
        new("tiny", 2, 64, 2, 128),
    ];

    public static BenchModelShape Named(string name, string field) =>
        All.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"{field} = '{name}' is not a bench model shape; use one of {string.Join(", ", All.Select(s => s.Name))}.", field);

    public long Vocab => Gpt2Vocabulary.Size;

    /// <summary>No dropout: a benchmark of cost, and the built-in job's dropout acts only on LoRA branches anyway.</summary>
    public Gpt2Config Config => new(Vocab, Context, Width, Layers, Heads, EmbdPdrop: 0, AttnPdrop: 0, ResidPdrop: 0);

    /// <summary>Weights of the blocks' projections (c_attn 3d², attn c_proj d², c_fc 4d², mlp c_proj 4d²): the
    /// parameters every token multiplies with. Embeddings are look-ups; the tied head is counted apart.</summary>
    public long BlockMatmulParameters => 12L * Layers * Width * Width;

    /// <summary>Every parameter of the base model (what HF's num_parameters() reports).</summary>
    public long TotalParameters =>
        Vocab * Width + (long)Context * Width                                       // wte (= LM head), wpe
        + Layers * (BlockMatmulParameters / Layers + 4L * Width /*ln_1, ln_2*/ + 3L * Width + Width + 4L * Width + Width /*biases*/)
        + 2L * Width;                                                               // ln_f

    /// <summary>LoRA A and B on c_attn, attn c_proj, c_fc and mlp c_proj (the built-in job's targets) at rank r:
    /// r·(in + out) each, 16·r·d per layer.</summary>
    public long LoraParameters(int rank) => 16L * rank * Width * Layers;
}

using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests.Lora;

/// <summary>A named container, so module paths read like Hugging Face's (<c>transformer.h.0.attn</c>).</summary>
sealed class Node : nn.Module
{
    public Node(string name, params (string Name, nn.Module Child)[] children) : base(name)
    {
        foreach (var (n, c) in children) register_module(n, c);
    }
}

/// <summary>
/// A two-block toy made of Projections at Hugging Face paths: a GPT-2 block with Conv1D-style
/// layers (W stored [in, out]) and a LLaMA block with Linear-style layers (W stored [out, in]),
/// plus a LayerNorm that LoRA must freeze. Input and output are [batch, time, 8].
/// </summary>
sealed class ToyModel : nn.Module<Tensor, Tensor>
{
    public const int Hidden = 8;

    readonly Projection c_attn = new("c_attn", Hidden, 3 * Hidden, hasBias: true, weightIsInputMajor: true);
    readonly Projection c_proj = new("c_proj", Hidden, Hidden, hasBias: true, weightIsInputMajor: true);
    readonly LayerNorm ln_f = nn.LayerNorm(Hidden);
    readonly Projection q_proj = new("q_proj", Hidden, Hidden, hasBias: false, weightIsInputMajor: false);
    readonly Projection k_proj = new("k_proj", Hidden, Hidden / 2, hasBias: false, weightIsInputMajor: false);
    readonly Projection v_proj = new("v_proj", Hidden, Hidden / 2, hasBias: false, weightIsInputMajor: false);
    readonly Projection o_proj = new("o_proj", Hidden, Hidden, hasBias: false, weightIsInputMajor: false);

    public ToyModel() : base("toy")
    {
        var attn = new Node("attn", ("c_attn", c_attn), ("c_proj", c_proj));
        var gptBlock = new Node("block", ("attn", attn));
        register_module("transformer", new Node("transformer", ("h", new Node("h", ("0", gptBlock))), ("ln_f", ln_f)));
        var selfAttn = new Node("self_attn", ("q_proj", q_proj), ("k_proj", k_proj), ("v_proj", v_proj), ("o_proj", o_proj));
        var llamaLayer = new Node("layer", ("self_attn", selfAttn));
        register_module("model", new Node("model", ("layers", new Node("layers", ("0", llamaLayer)))));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var a = c_attn.forward(x);
        var h = x + c_proj.forward(a.narrow(-1, 0, Hidden) * a.narrow(-1, Hidden, Hidden) + a.narrow(-1, 2 * Hidden, Hidden));
        h = ln_f.forward(h);
        var kv = cat([k_proj.forward(h), v_proj.forward(h)], -1);
        return (h + o_proj.forward(q_proj.forward(h) * kv)).MoveToOuterDisposeScope();
    }

    /// <summary>A toy with weights fixed by <paramref name="seed"/>.</summary>
    public static ToyModel Create(long seed = 1)
    {
        manual_seed(seed);
        var model = new ToyModel();
        model.eval();
        return model;
    }

    public static Tensor Input(long seed = 7)
    {
        using var g = new Generator((ulong)seed);
        return randn([2, 3, Hidden], generator: g);
    }

    public static readonly string[] AllTargets = ["c_attn", "c_proj", "q_proj", "k_proj", "v_proj", "o_proj"];

    public static LoraConfig Config(params string[] targets) =>
        new(rank: 2, alpha: 4, dropout: 0.1, targets.Length == 0 ? AllTargets : targets);

    /// <summary>B is zero after Apply; give it seeded values so LoRA changes the output.</summary>
    public static void RandomizeB(LoraAdapter adapter, long seed = 3)
    {
        using var g = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var (name, p) in adapter.NamedParameters())
            if (name.EndsWith(".lora_B.weight", StringComparison.Ordinal))
                p.copy_(randn(p.shape, generator: g) * 0.5);
    }
}

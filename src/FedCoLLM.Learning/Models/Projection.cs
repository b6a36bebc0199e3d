using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FedCoLLM.Learning.Models;

/// <summary>
/// A dense layer y = x·W + b that can carry a LoRA branch (Hu et al. 2021, eq. 3):
/// y += (alpha / r) · B(A(dropout(x))). Every linear map of our models is a Projection, so LoRA
/// needs no module surgery. Submodule names follow PEFT (<c>lora_A</c>, <c>lora_B</c>), giving
/// state-dict keys such as <c>transformer.h.0.attn.c_attn.lora_A.weight</c>.
/// </summary>
public sealed class Projection : Module<Tensor, Tensor>
{
    public readonly Parameter weight;
    public readonly Parameter? bias;

    /// <summary>GPT-2's Conv1D stores W as [in, out]; nn.Linear (LLaMA) stores [out, in].</summary>
    public bool WeightIsInputMajor { get; }
    public long InFeatures { get; }
    public long OutFeatures { get; }

    Linear? lora_A;
    Linear? lora_B;
    Dropout? lora_dropout;
    double loraScaling;

    public bool HasLora => lora_A is not null;
    public bool IsMerged { get; private set; }
    public int LoraRank => (int)(lora_A?.weight!.shape[0] ?? 0);
    public double LoraScaling => loraScaling;
    public Linear? LoraA => lora_A;
    public Linear? LoraB => lora_B;

    public Projection(string name, long inFeatures, long outFeatures, bool hasBias, bool weightIsInputMajor)
        : base(name)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        WeightIsInputMajor = weightIsInputMajor;
        // Same initial distribution as nn.Linear; pretrained weights overwrite it anyway.
        using var init = Linear(inFeatures, outFeatures, hasBias);
        var w = init.weight!.detach();
        weight = Parameter(weightIsInputMajor ? w.t().contiguous() : w.clone());
        if (hasBias) bias = Parameter(init.bias!.detach().clone());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // y is created inside the scope: MoveToOuterDisposeScope on a tensor owned by the caller's
        // scope would move it one scope too far out (and leak it past the caller's scope).
        using var scope = NewDisposeScope();
        var y = WeightIsInputMajor
            ? (bias is null ? matmul(x, weight) : addmm_like(x, weight, bias))
            : functional.linear(x, weight, bias);
        if (lora_A is null || IsMerged) return y.MoveToOuterDisposeScope();
        var delta = lora_B!.forward(lora_A.forward(lora_dropout!.forward(x))).mul_(loraScaling);
        return y.add_(delta).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The LoRA branch as a low-rank linear term of <paramref name="x"/>: (A(dropout(x)) [.., r], B.weight [out, r],
    /// scaling), so that forward(x) = base(x) + Scale · Input·Weightᵀ. Null when there is no branch or it is merged
    /// into the base weight. A fused LM-head loss uses it to keep a LoRA head's logits unmaterialised.
    /// </summary>
    public (Tensor Input, Tensor Weight, double Scale)? LowRankTerm(Tensor x) =>
        lora_A is null || IsMerged ? null : (lora_A.forward(lora_dropout!.forward(x)), lora_B!.weight!, loraScaling);

    static Tensor addmm_like(Tensor x, Tensor w, Tensor b)
    {
        // x is [..., in]; addmm wants 2-D, so flatten the leading dims once.
        var shape = x.shape;
        var flat = x.reshape(-1, shape[^1]);
        var y = addmm(b, flat, w, beta: 1, alpha: 1);
        var outShape = shape.ToArray();
        outShape[^1] = w.shape[1];
        return y.view(outShape);
    }

    /// <summary>Adds a LoRA branch initialised as PEFT does: A ~ kaiming-uniform(a=√5), B = 0,
    /// so the layer's output is unchanged. Freezes the base weight and bias. With a
    /// <paramref name="generator"/>, A is drawn from it alone, so the draw does not depend on the
    /// global RNG state.</summary>
    public void AddLora(int rank, double alpha, double dropout, Generator? generator = null)
    {
        if (HasLora) throw new InvalidOperationException($"{GetName()} already has a LoRA branch.");
        if (rank < 1) throw new ArgumentException($"LoRA rank r = {rank}; it must be at least 1.");
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentException($"LoRA dropout = {dropout}; it must be in [0, 1).");
        var device = weight.device;
        lora_A = Linear(InFeatures, rank, hasBias: false, device: device);
        lora_B = Linear(rank, OutFeatures, hasBias: false, device: device);
        using (no_grad())
        {
            // kaiming_uniform_(a = √5) on [r, in] is U(−1/√in, 1/√in), as nn.Linear and PEFT use.
            double bound = 1.0 / Math.Sqrt(InFeatures);
            if (generator is not null)
            {
                // Drawn on the CPU, so a seed gives the same A on every device.
                using var a = empty(rank, InFeatures).uniform_(-bound, bound, generator);
                lora_A.weight!.copy_(a);
            }
            lora_B.weight!.zero_();
        }
        lora_dropout = Dropout(dropout);
        loraScaling = alpha / rank;
        register_module("lora_A", lora_A);
        register_module("lora_B", lora_B);
        register_module("lora_dropout", lora_dropout);
        // New modules start in training mode; a model already in eval() must not start dropping out.
        lora_A.train(training); lora_B.train(training); lora_dropout.train(training);
        weight.requires_grad = false;
        if (bias is not null) bias.requires_grad = false;
    }

    /// <summary>Folds scaling·B·A into W for inference; <see cref="Unmerge"/> restores it.</summary>
    public void Merge()
    {
        if (!HasLora || IsMerged) return;
        using var _ = no_grad();
        weight.add_(Delta());
        IsMerged = true;
    }

    public void Unmerge()
    {
        if (!HasLora || !IsMerged) return;
        using var _ = no_grad();
        weight.sub_(Delta());
        IsMerged = false;
    }

    Tensor Delta()
    {
        var ba = matmul(lora_B!.weight!, lora_A!.weight!).mul_(loraScaling); // [out, in]
        return WeightIsInputMajor ? ba.t() : ba;
    }
}

using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Models;

/// <summary>
/// The operands of an LM head applied to hidden rows h [N, H], written as one linear map so that a fused loss
/// can compute logits chunk by chunk without ever holding [N, V]:
/// <code>logits = h·Wᵀ + LowRankScale · (u·Bᵀ) + bias</code>
/// where W is [V, H] (a view; for a Conv1D-style [H, V] weight it is the transpose), and the optional low-rank
/// term is an unmerged LoRA branch on the head: u = A(dropout(h)) [N, r], B = lora_B.weight [V, r].
/// Every tensor keeps its autograd history, so gradients reach h, the LoRA A (through u) and B, and W or the
/// bias when they are trainable.
/// </summary>
public sealed record HeadOperands(
    Tensor Hidden,
    Tensor Weight,
    Tensor? Bias = null,
    Tensor? LowRankInput = null,
    Tensor? LowRankWeight = null,
    double LowRankScale = 1.0)
{
    public long Rows => Hidden.shape[0];
    public long VocabSize => Weight.shape[0];
}

/// <summary>
/// A model's LM head, either tied to the token embedding (GPT-2; LLaMA with <c>tie_word_embeddings</c>) or a
/// separate <see cref="Projection"/> (LLaMA's <c>lm_head</c>, possibly carrying LoRA). <see cref="Logits"/> is the
/// dense map the model's forward uses; <see cref="Operands"/> hands the same map to a fused loss
/// (<see cref="Losses.FusedHeadLoss"/>) for answer rows selected BEFORE the head.
/// </summary>
public sealed class LanguageModelHead
{
    readonly Embedding? tied;
    readonly Projection? projection;

    LanguageModelHead(Embedding? tied, Projection? projection) => (this.tied, this.projection) = (tied, projection);

    /// <summary>logits = h · Eᵀ with the token embedding E [V, H].</summary>
    public static LanguageModelHead TiedTo(Embedding embedding) => new(embedding, null);

    /// <summary>logits = lm_head(h), including its LoRA branch if it has one.</summary>
    public static LanguageModelHead Of(Projection lmHead) => new(null, lmHead);

    /// <summary>Dense logits [..., V] of hidden states [..., H]: exactly what the model's forward computes.</summary>
    public Tensor Logits(Tensor hidden) =>
        tied is not null ? nn.functional.linear(hidden, tied.weight!) : projection!.forward(hidden);

    /// <summary>The head as the linear operands of <paramref name="rows"/> [N, H] (see <see cref="HeadOperands"/>).</summary>
    public HeadOperands Operands(Tensor rows)
    {
        if (rows.dim() != 2)
            throw new ArgumentException($"rows must be hidden states [N, H]; got [{string.Join(", ", rows.shape)}].", nameof(rows));
        if (tied is not null) return new HeadOperands(rows, tied.weight!);
        var p = projection!;
        var weight = p.WeightIsInputMajor ? p.weight.t() : (Tensor)p.weight;
        var lowRank = p.LowRankTerm(rows);
        return lowRank is { } lr
            ? new HeadOperands(rows, weight, p.bias, lr.Input, lr.Weight, lr.Scale)
            : new HeadOperands(rows, weight, p.bias);
    }
}

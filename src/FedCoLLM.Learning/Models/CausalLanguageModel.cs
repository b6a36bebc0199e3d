using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FedCoLLM.Learning.Models;

/// <summary>
/// A decoder-only language model: token ids [B, T] (int64) and an attention mask [B, T]
/// (1 = real token, 0 = padding; padding is on the right) → next-token logits [B, T, V] (float32).
/// Parameter names are Hugging Face's, so <c>state_dict()</c> keys equal checkpoint keys.
/// <para>The forward is split in two so that losses apply the LM head only where they read logits:
/// <see cref="HiddenStates"/> gives the final (normalised) hidden states [B, T, H], <see cref="Head"/> maps
/// selected rows to logits, densely or inside a fused loss. At V = 50 257 the [B, T, V] logits are most of a
/// training step's memory while the answer positions are a fraction of T.</para>
/// </summary>
public abstract class CausalLanguageModel : Module<Tensor, Tensor, Tensor>
{
    protected CausalLanguageModel(string name) : base(name) { }

    public abstract ModelConfig Config { get; }

    public long VocabSize => Config.VocabSize;

    /// <summary>The final hidden states [B, T, H], after the last normalisation and before the LM head.</summary>
    public Tensor HiddenStates(Tensor inputIds, Tensor attentionMask)
    {
        // Own scope: the blocks' temporaries are freed here (autograd keeps what backward needs), not at the end
        // of the caller's batch.
        using var scope = NewDisposeScope();
        return ComputeHiddenStates(inputIds, attentionMask).MoveToOuterDisposeScope();
    }

    /// <summary>Embeddings, blocks and the final norm: [B, T] ids → [B, T, H].</summary>
    protected abstract Tensor ComputeHiddenStates(Tensor inputIds, Tensor attentionMask);

    /// <summary>The LM head (tied embedding or lm_head, with LoRA if any).</summary>
    public abstract LanguageModelHead Head { get; }

    /// <summary>Logits [B, T, V] at every position = Head(HiddenStates). Pre-training, where every position is a
    /// target, and callers that need every position use this; answer-position losses should not.</summary>
    public sealed override Tensor forward(Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        return Head.Logits(ComputeHiddenStates(inputIds, attentionMask)).MoveToOuterDisposeScope();
    }

    /// <summary>Every Projection with its dotted module path (e.g. <c>transformer.h.0.attn.c_attn</c>).</summary>
    public IEnumerable<(string Path, Projection Layer)> Projections() =>
        named_modules().Where(m => m.module is Projection).Select(m => (m.name, (Projection)m.module));
}

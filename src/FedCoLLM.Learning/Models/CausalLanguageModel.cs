using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FedCoLLM.Learning.Models;

/// <summary>
/// A decoder-only language model: token ids [B, T] (int64) and an attention mask [B, T]
/// (1 = real token, 0 = padding; padding is on the right) → next-token logits [B, T, V] (float32).
/// Parameter names are Hugging Face's, so <c>state_dict()</c> keys equal checkpoint keys.
/// </summary>
public abstract class CausalLanguageModel : Module<Tensor, Tensor, Tensor>
{
    protected CausalLanguageModel(string name) : base(name) { }

    public abstract ModelConfig Config { get; }

    public long VocabSize => Config.VocabSize;

    /// <summary>Every Projection with its dotted module path (e.g. <c>transformer.h.0.attn.c_attn</c>).</summary>
    public IEnumerable<(string Path, Projection Layer)> Projections() =>
        named_modules().Where(m => m.module is Projection).Select(m => (m.name, (Projection)m.module));
}

using static TorchSharp.torch;

namespace FedCoLLM.Learning.Models;

/// <summary>
/// The boolean mask both model families pass to <c>scaled_dot_product_attention</c>. SDPA with this mask
/// agrees with an explicit masked softmax to 1e-6 and, on 2 CPU threads (B=8, H=12, T=256, d=64), runs
/// forward ~2.5× and forward+backward ~4× faster, about as fast as its causal-only path.
/// </summary>
internal static class AttentionMask
{
    /// <summary>
    /// [B, T] padding mask (1 = real, 0 = padding) → [B, 1, T, T] with true where query i may attend to
    /// key j: j ≤ i and key j is real. The diagonal is always allowed so that a padding query never
    /// has an empty row (softmax over nothing is NaN, and NaN would leak into gradients); its output
    /// is ignored by every loss anyway.
    /// </summary>
    public static Tensor CausalWithPadding(Tensor attentionMask)
    {
        long t = attentionMask.shape[1];
        var device = attentionMask.device;
        var causal = ones(t, t, ScalarType.Bool, device).tril_();
        var realKeys = attentionMask.to(ScalarType.Bool).view(-1, 1, 1, t);
        var diagonal = eye(t, t, ScalarType.Bool, device);
        return causal.logical_and(realKeys).logical_or_(diagonal);
    }
}

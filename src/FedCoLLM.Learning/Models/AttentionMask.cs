using static TorchSharp.torch;

namespace FedCoLLM.Learning.Models;

/// <summary>The boolean mask both model families pass to scaled-dot-product attention.</summary>
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

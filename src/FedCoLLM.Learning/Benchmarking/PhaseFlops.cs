using FedCoLLM.Learning.Data;

namespace FedCoLLM.Learning.Benchmarking;

/// <summary>
/// The useful FLOPs of a phase on a GPT-2 shape, counted per example from its real (unpadded) length t and its
/// answer-token count a (multiply-add = 2 FLOPs):
/// <code>
/// forward  F = Σ 2·(P_blocks + P_lora)·t + 4·L·d·t² + 2·d·V·a
/// training   = Σ 4·P_blocks·t + 6·P_lora·t + 12·L·d·t² + 4·d·V·a
/// </code>
/// P_blocks = 12·L·d² (the projections), 4·L·d·t² the attention scores and the weighted sum (the full t×t matrix, as
/// computed), 2·d·V per answer position the tied LM head. The LM head is counted only where a loss or a score needs
/// it (answer positions): logits at other positions are waste, not work. Training with LoRA on a frozen base needs
/// no weight gradients for the base: backward costs one forward for the frozen projections and the LM head
/// (activation gradients only), two for LoRA's own matrices and for attention (both operands are activations).
/// The usual 6·P·tokens is full fine-tuning's count; it would read 1.5× higher here.
/// </summary>
public static class PhaseFlops
{
    public static double Forward(BenchModelShape shape, int loraRank, IReadOnlyList<(int Tokens, int Answer)> examples) =>
        examples.Sum(e => 2.0 * (shape.BlockMatmulParameters + shape.LoraParameters(loraRank)) * e.Tokens
                          + 4.0 * shape.Layers * shape.Width * (double)e.Tokens * e.Tokens
                          + 2.0 * shape.Width * shape.Vocab * e.Answer);

    public static double Training(BenchModelShape shape, int loraRank, IReadOnlyList<(int Tokens, int Answer)> examples) =>
        examples.Sum(e => 4.0 * shape.BlockMatmulParameters * e.Tokens + 6.0 * shape.LoraParameters(loraRank) * e.Tokens
                          + 12.0 * shape.Layers * shape.Width * (double)e.Tokens * e.Tokens
                          + 4.0 * shape.Width * shape.Vocab * e.Answer);

    /// <summary>(t, a) of each example after the phase's left cut to <paramref name="maxLength"/> tokens.</summary>
    public static List<(int Tokens, int Answer)> Sizes(IReadOnlyList<TokenizedExample> examples, int maxLength)
    {
        var builder = new BatchBuilder(PadId: 0, maxLength);
        return examples.Select(e => builder.Fit(e)).Select(f => (f.PromptIds.Length + f.AnswerIds.Length, f.AnswerIds.Length)).ToList();
    }
}

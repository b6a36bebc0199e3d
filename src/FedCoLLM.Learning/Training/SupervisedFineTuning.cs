using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Models;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Training;

/// <summary>Client-side local training: answer-token cross-entropy on private data (FedCoLLM step 1).</summary>
public static class SupervisedFineTuning
{
    public static TrainingReport Train(
        CausalLanguageModel model,
        IReadOnlyList<TokenizedExample> examples,
        TrainingSettings settings,
        ComputeOptions compute,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellation = default,
        TrainingCheckpoints? checkpoints = null) =>
        TrainingLoop.Run("sft", model, examples, settings, compute, AnswerLoss, progress, cancellation, checkpoints);

    /// <summary>Mean answer-token CE with the LM head applied to the answer rows only, fused with the loss (no [N, V]
    /// logits). Distillation with λ = 0 uses exactly this, so it equals SFT bit for bit.</summary>
    public static Tensor AnswerLoss(ForwardPass pass) => FusedHeadLoss.CrossEntropy(pass.AnswerHead(), pass.Targets());
}

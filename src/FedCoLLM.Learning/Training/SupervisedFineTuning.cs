using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Models;

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
        CancellationToken cancellation = default) =>
        TrainingLoop.Run("sft", model, examples, settings, compute,
            (batch, logits) => AnswerCrossEntropy.Mean(logits, batch.Labels),
            progress, cancellation);
}

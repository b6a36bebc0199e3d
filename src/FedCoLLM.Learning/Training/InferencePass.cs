using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Models;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Training;

/// <summary>
/// Runs a frozen model over a dataset, batch by batch (examples of similar length together), in evaluation mode and
/// without gradients — the shared core of teacher passes and log-likelihood scoring. It stops before the LM head
/// (<see cref="ForwardPass"/>), so callers apply it to the rows they read. Each batch's tensors are freed
/// when <c>onBatch</c> returns, so it must copy out what it keeps.
/// </summary>
public static class InferencePass
{
    public static void Run(
        CausalLanguageModel model,
        IReadOnlyList<TokenizedExample> examples,
        int batchSize,
        int maxLength,
        ComputeOptions compute,
        Action<ForwardPass> onBatch,
        CancellationToken cancellation = default)
    {
        compute.Apply();
        var device = compute.TorchDevice;
        var builder = new BatchBuilder(PadId: 0, maxLength);
        model.eval();
        using var _ = no_grad();
        foreach (var indices in BatchPlan.ByLength(builder.FittedLengths(examples), batchSize))
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            using var batch = builder.Build(examples, indices).To(device);
            onBatch(new ForwardPass(batch, model.HiddenStates(batch.InputIds, batch.AttentionMask), model.Head));
        }
    }
}

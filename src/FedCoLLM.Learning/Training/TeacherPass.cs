using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Models;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Training;

/// <summary>Runs a frozen model over a dataset and keeps only its top-k logits at the answer positions
/// (FedCoLLM steps 6 and 9). The LM head runs on the answer rows only; what is kept is O(answer tokens · k).</summary>
public static class TeacherPass
{
    public static TeacherTopK[] Extract(
        CausalLanguageModel model,
        IReadOnlyList<TokenizedExample> examples,
        int topK,
        int batchSize,
        int maxLength,
        ComputeOptions compute,
        CancellationToken cancellation = default) =>
        Extract(model, examples, topK, batchSize, maxLength, compute, mass: null, cancellation);

    /// <summary>As above; when <paramref name="mass"/> is given, it also tallies the teacher's probability mass outside
    /// its top-k at the tally's temperature, from the same dense logits (<see cref="TeacherMass"/>).</summary>
    public static TeacherTopK[] Extract(
        CausalLanguageModel model,
        IReadOnlyList<TokenizedExample> examples,
        int topK,
        int batchSize,
        int maxLength,
        ComputeOptions compute,
        TeacherMassTally? mass,
        CancellationToken cancellation = default)
    {
        if (topK < 1 || topK > model.VocabSize)
            throw new ArgumentException($"topK = {topK}; it must be in [1, vocab size {model.VocabSize}].", nameof(topK));
        var result = new TeacherTopK[examples.Count];
        InferencePass.Run(model, examples, batchSize, maxLength, compute, pass =>
        {
            var batch = pass.Batch;
            var logits = pass.AnswerLogits();
            var (topIdx, topLogits) = TopKTeacher.Extract(logits, topK);
            mass?.Add(logits, topLogits);
            var perExample = TopKTeacher.Split(topIdx.cpu(), topLogits.cpu(), batch.Labels.cpu());
            for (int i = 0; i < batch.ExampleIndices.Length; i++) result[batch.ExampleIndices[i]] = perExample[i];
        }, cancellation);
        return result;
    }
}

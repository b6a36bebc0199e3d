using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Models;

namespace FedCoLLM.Learning.Evaluation;

/// <summary>exp(mean negative log-likelihood per predicted token) over whole token sequences.</summary>
public static class Perplexity
{
    public static double Compute(
        CausalLanguageModel model,
        IReadOnlyList<int[]> sequences,
        int batchSize,
        int maxLength,
        ComputeOptions compute,
        CancellationToken cancellation = default)
    {
        // Every token but the first is predicted: the first is the "prompt", the rest the "answer".
        var usable = sequences.Where(s => s.Length >= 2)
            .Select(s => s.Length > maxLength ? s[..maxLength] : s)
            .Select(s => new TokenizedExample(s[..1], s[1..])).ToList();
        if (usable.Count == 0) throw new ArgumentException("Perplexity needs at least one sequence of two or more tokens.", nameof(sequences));
        var ll = MultipleChoiceEvaluator.LogLikelihoods(model, usable, batchSize, maxLength, compute, cancellation);
        long tokens = usable.Sum(e => (long)e.AnswerIds.Length);
        return Math.Exp(-ll.Sum() / tokens);
    }
}

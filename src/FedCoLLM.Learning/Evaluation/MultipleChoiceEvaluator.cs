using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Tokenization;
using FedCoLLM.Learning.Training;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Evaluation;

/// <summary>A question whose choices are already tokenized as prompt ⊕ " choice".</summary>
public sealed record ScoredQuestion(IReadOnlyList<TokenizedExample> Choices, IReadOnlyList<int> ChoiceCharLengths, int AnswerIndex);

/// <summary>
/// Zero-shot multiple choice by log-likelihood, as lm-evaluation-harness scores ARC, OpenBookQA and
/// CommonsenseQA: every choice is scored by Σ log p(choice tokens | prompt); acc takes the argmax,
/// acc_norm the argmax of that sum divided by the choice's length in characters.
/// </summary>
public static class MultipleChoiceEvaluator
{
    public static MultipleChoiceResult Evaluate(
        CausalLanguageModel model,
        IReadOnlyList<ScoredQuestion> questions,
        int batchSize,
        int maxLength,
        ComputeOptions compute,
        CancellationToken cancellation = default)
    {
        var flat = questions.SelectMany(q => q.Choices).ToList();
        return Tally(questions, LogLikelihoods(model, flat, batchSize, maxLength, compute, cancellation));
    }

    /// <summary>Turns per-choice log-likelihoods (questions' choices concatenated in order) into acc and acc_norm.</summary>
    public static MultipleChoiceResult Tally(IReadOnlyList<ScoredQuestion> questions, IReadOnlyList<double> logLikelihoods)
    {
        int expected = questions.Sum(q => q.Choices.Count);
        if (logLikelihoods.Count != expected)
            throw new ArgumentException($"{logLikelihoods.Count} log-likelihoods for {expected} choices.", nameof(logLikelihoods));
        int correct = 0, correctNorm = 0, offset = 0;
        foreach (var q in questions)
        {
            int best = 0, bestNorm = 0;
            for (int c = 1; c < q.Choices.Count; c++)
            {
                // Ties go to the first choice, as numpy's argmax in the harness.
                if (logLikelihoods[offset + c] > logLikelihoods[offset + best]) best = c;
                if (logLikelihoods[offset + c] / Math.Max(1, q.ChoiceCharLengths[c]) >
                    logLikelihoods[offset + bestNorm] / Math.Max(1, q.ChoiceCharLengths[bestNorm])) bestNorm = c;
            }
            if (best == q.AnswerIndex) correct++;
            if (bestNorm == q.AnswerIndex) correctNorm++;
            offset += q.Choices.Count;
        }
        return new MultipleChoiceResult(questions.Count, correct, correctNorm);
    }

    /// <summary>Tokenizes every choice of every item with the shared prompt format.</summary>
    public static IReadOnlyList<ScoredQuestion> Prepare(IReadOnlyList<MultipleChoiceItem> items, QaPromptFormat format, TextTokenizer tokenizer) =>
        items.Select(item => new ScoredQuestion(
            Enumerable.Range(0, item.Choices.Count).Select(c => format.Tokenize(item, c, tokenizer)).ToList(),
            item.Choices.Select(c => c.Text.Length).ToList(),
            item.AnswerIndex)).ToList();

    /// <summary>Σ log p(answer tokens | prompt) for every example, in input order.</summary>
    public static double[] LogLikelihoods(
        CausalLanguageModel model,
        IReadOnlyList<TokenizedExample> examples,
        int batchSize,
        int maxLength,
        ComputeOptions compute,
        CancellationToken cancellation = default)
    {
        var result = new double[examples.Count];
        InferencePass.Run(model, examples, batchSize, maxLength, compute, pass =>
        {
            // The head runs on the answer rows only: choices are short, prompts long.
            var (sums, _) = AnswerCrossEntropy.TokenLogProbsOfRows(pass.AnswerLogits(), pass.Batch.Labels);
            var values = sums.to(float64).cpu().data<double>().ToArray();
            for (int i = 0; i < pass.Batch.ExampleIndices.Length; i++) result[pass.Batch.ExampleIndices[i]] = values[i];
        }, cancellation);
        return result;
    }
}

using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Evaluation;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Tokenization;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests.Evaluation;

public class EvaluationTests
{
    static ScoredQuestion Question(int answer, params int[] charLengths) =>
        new(charLengths.Select(_ => new TokenizedExample([1], [2])).ToList(), charLengths, answer);

    [Fact]
    public void Acc_takes_the_highest_log_likelihood_and_acc_norm_divides_by_choice_characters()
    {
        // Choice 0: ll -4 over 2 chars (-2/char); choice 1: ll -6 over 12 chars (-0.5/char).
        var q = Question(answer: 1, 2, 12);
        var result = MultipleChoiceEvaluator.Tally([q], [-4.0, -6.0]);
        Assert.Equal(0, result.Correct);
        Assert.Equal(1, result.CorrectNormalized);
    }

    [Fact]
    public void Ties_go_to_the_first_choice_as_numpy_argmax()
    {
        var result = MultipleChoiceEvaluator.Tally([Question(1, 3, 3), Question(0, 3, 3)], [-1.0, -1.0, -1.0, -1.0]);
        Assert.Equal(1, result.Correct);
        Assert.Equal(0.5, result.Accuracy);
    }

    [Fact]
    public void Wilson_interval_matches_the_textbook_value()
    {
        var (low, high) = MultipleChoiceResult.Wilson95(50, 100);
        Assert.Equal(0.4038, low, 4);
        Assert.Equal(0.5962, high, 4);
    }

    [Fact]
    public void Log_likelihood_is_the_sum_of_answer_token_log_probabilities()
    {
        var model = PretrainedModels.Load(Fixtures.Reference("gpt2-tiny"), Fixtures.Cpu);
        var example = new TokenizedExample([5, 6, 7], [8, 9]);
        var ll = MultipleChoiceEvaluator.LogLikelihoods(model, [example, example with { AnswerIds = [8] }], 2, 32, Fixtures.Cpu);

        using var logits = Fixtures.Logits(model, tensor(new long[] { 5, 6, 7, 8, 9 }).unsqueeze(0), ones(1, 5, dtype: int64));
        using var logp = logits[0].to(float64).log_softmax(-1);
        double expected = logp[2, 8].item<double>() + logp[3, 9].item<double>();
        Assert.Equal(expected, ll[0], 4);
        Assert.Equal(logp[2, 8].item<double>(), ll[1], 4);
    }

    [Fact]
    public void Perplexity_of_a_uniform_model_is_the_vocabulary_size()
    {
        var model = PretrainedModels.Load(Fixtures.Reference("gpt2-tiny"), Fixtures.Cpu);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name == "transformer.wte.weight") p.zero_(); // tied head → all logits 0
        double ppl = Perplexity.Compute(model, [[1, 2, 3, 4], [5, 6, 7]], 2, 16, Fixtures.Cpu);
        Assert.Equal(model.VocabSize, ppl, 3);
    }

    [Fact]
    public void Evaluating_items_end_to_end_counts_every_question()
    {
        var model = PretrainedModels.Load(Fixtures.Fixture("gpt2-slm"), Fixtures.Cpu);
        var tokenizer = TokenizerFiles.Load(Fixtures.Fixture("gpt2-slm"));
        var items = Enumerable.Range(0, 5).Select(i => new MultipleChoiceItem($"q{i}", "abc",
            [new Choice("A", "x"), new Choice("B", "yy"), new Choice("C", "zzz")], i % 3)).ToList();
        var result = MultipleChoiceEvaluator.Evaluate(model, MultipleChoiceEvaluator.Prepare(items, QaPromptFormat.Default, tokenizer), 4, 64, Fixtures.Cpu);
        Assert.Equal(5, result.Total);
        Assert.InRange(result.Accuracy, 0, 1);
    }
}

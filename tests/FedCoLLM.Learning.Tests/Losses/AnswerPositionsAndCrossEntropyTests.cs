using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Losses;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests.Losses;

public class AnswerPositionsAndCrossEntropyTests
{
    private const long I = Batch.IgnoreIndex;

    // Row 0: prompt 2 tokens, answer 3 tokens (ids 4,5,6), no padding.
    // Row 1: prompt 3 tokens, answer 1 token (id 7), one pad.
    private static readonly long[,] LabelRows =
    {
        { I, I, 4, 5, 6 },
        { I, I, I, 7, I },
    };

    private static Tensor Labels() => tensor(LabelRows.Cast<long>().ToArray(), [2, 5]);

    [Fact]
    public void Last_prompt_position_predicts_the_first_answer_token_and_the_position_after_the_answer_is_excluded()
    {
        // Guards FATE's B14 (mask labels[j] instead of labels[j + 1]).
        var mask = AnswerPositions.Mask(Labels()).data<bool>().ToArray();
        Assert.Equal(new[] { false, true, true, true, /*row 1*/ false, false, true, false }, mask);
    }

    [Fact]
    public void Answer_rows_are_gathered_row_major_by_example_then_position()
    {
        var perPosition = arange(2 * 5).reshape(2, 5, 1).to(ScalarType.Float32); // value = b·T + j
        var rows = AnswerPositions.Select(perPosition, Labels()).reshape(-1).data<float>().ToArray();
        Assert.Equal(new float[] { 1, 2, 3, 7 }, rows);
        Assert.Equal(new long[] { 4, 5, 6, 7 }, AnswerPositions.Targets(Labels()).data<long>().ToArray());
        Assert.Equal(new[] { 3, 1 }, AnswerPositions.CountPerRow(Labels()));
    }

    [Fact]
    public void Cross_entropy_equals_an_explicit_shifted_masked_computation()
    {
        var logits = randn([2, 5, 9], ScalarType.Float64, generator: new Generator(1));
        var z = logits.data<double>().ToArray();
        double sum = 0; int count = 0;
        for (int b = 0; b < 2; b++)
            for (int j = 0; j < 4; j++)
            {
                long target = LabelRows[b, j + 1];
                if (target == I) continue;
                int o = (b * 5 + j) * 9;
                double lse = Math.Log(Enumerable.Range(0, 9).Sum(u => Math.Exp(z[o + u])));
                sum += -(z[o + target] - lse);
                count++;
            }
        Assert.Equal(sum / count, AnswerCrossEntropy.Mean(logits, Labels()).item<double>(), 12);
    }

    [Fact]
    public void Cross_entropy_gradient_flows_only_into_answer_prediction_positions()
    {
        var logits = randn(2, 5, 9).requires_grad_(true);
        AnswerCrossEntropy.Mean(logits, Labels()).backward();
        var touched = logits.grad!.abs().sum(2).gt(0).data<bool>().ToArray();
        Assert.Equal(new[] { false, true, true, true, false, false, false, true, false, false }, touched);
    }

    [Fact]
    public void Token_log_probs_are_per_example_sums_and_counts()
    {
        var logits = randn([2, 5, 9], ScalarType.Float64, generator: new Generator(2));
        var (sum, count) = AnswerCrossEntropy.TokenLogProbs(logits, Labels());
        var logp = logits.log_softmax(2);
        double row0 = logp[0, 1, 4].item<double>() + logp[0, 2, 5].item<double>() + logp[0, 3, 6].item<double>();
        double row1 = logp[1, 2, 7].item<double>();
        Assert.Equal(row0, sum[0].item<double>(), 12);
        Assert.Equal(row1, sum[1].item<double>(), 12);
        Assert.Equal(new long[] { 3, 1 }, count.data<long>().ToArray());
    }

    [Fact]
    public void Mean_cross_entropy_matches_the_token_log_prob_total()
    {
        var logits = randn([2, 5, 9], ScalarType.Float64, generator: new Generator(3));
        var (sum, count) = AnswerCrossEntropy.TokenLogProbs(logits, Labels());
        Assert.Equal(-sum.sum().item<double>() / count.sum().item<long>(), AnswerCrossEntropy.Mean(logits, Labels()).item<double>(), 12);
    }
}

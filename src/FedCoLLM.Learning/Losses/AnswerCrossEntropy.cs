using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FedCoLLM.Learning.Losses;

/// <summary>
/// Next-token cross-entropy over answer tokens only (brief §1.4: CE = −(1/|A|) Σ_{j∈A} log softmax(z_j)[x_{j+1}]),
/// with the causal shift done here so callers pass unshifted Hugging Face labels. Prompt and padding are masked.
/// </summary>
public static class AnswerCrossEntropy
{
    /// <summary>Mean CE over all answer positions of the batch (a token-level mean, as HF's model loss). logits [B,T,V], labels [B,T].</summary>
    public static Tensor Mean(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var rows = AnswerPositions.Select(logits, labels);
        var targets = AnswerPositions.Targets(labels).to(logits.device);
        return scope.MoveToOuter(MeanOfRows(rows, targets));
    }

    /// <summary>Mean CE for already-selected answer rows [N,V] and their targets [N] (contract order).</summary>
    public static Tensor MeanOfRows(Tensor answerLogits, Tensor targets)
    {
        if (answerLogits.dim() != 2)
            throw new ArgumentException($"answerLogits must be [N, V]; got {answerLogits.dim()} dimensions.", nameof(answerLogits));
        if (targets.dim() != 1 || targets.shape[0] != answerLogits.shape[0])
            throw new ArgumentException($"targets must be [N] with N = {answerLogits.shape[0]}; got [{string.Join(", ", targets.shape)}].", nameof(targets));
        if (answerLogits.shape[0] == 0)
            return answerLogits.sum().mul(0.0); // no answer tokens: zero loss that still joins the graph
        return F.cross_entropy(answerLogits, targets.to(ScalarType.Int64));
    }

    /// <summary>
    /// Per-example log-likelihood of the answer: Sum[b] = Σ_{j∈A(b)} log p(x_{j+1} | x_≤j) (float64 [B]) and
    /// Count[b] = |A(b)| (int64 [B]). Multiple-choice evaluation compares Sum (or Sum / Count) across choices.
    /// </summary>
    public static (Tensor Sum, Tensor Count) TokenLogProbs(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var (sum, count) = TokenLogProbsOfRows(AnswerPositions.Select(logits, labels), labels);
        return (scope.MoveToOuter(sum), scope.MoveToOuter(count));
    }

    /// <summary><see cref="TokenLogProbs"/> from the logits of the answer rows alone, [N, V] in contract order (the LM
    /// head applied after selecting the rows).</summary>
    public static (Tensor Sum, Tensor Count) TokenLogProbsOfRows(Tensor rows, Tensor labels)
    {
        if (rows.dim() != 2)
            throw new ArgumentException($"rows must be answer-row logits [N, V]; got {rows.dim()} dimensions.", nameof(rows));
        using var scope = NewDisposeScope();
        long b = labels.shape[0];
        var targets = AnswerPositions.Targets(labels).to(rows.device).unsqueeze(1);
        // log p = z[target] − logsumexp(z): no [N,V] log-softmax temporary.
        var logp = rows.gather(1, targets).squeeze(1).to(ScalarType.Float64)
                       .sub_(rows.logsumexp(1).to(ScalarType.Float64));
        var rowOf = AnswerPositions.RowOfPosition(labels).to(rows.device);
        var sum = zeros(b, ScalarType.Float64, rows.device).index_add_(0, rowOf, logp, 1);
        var count = zeros(b, ScalarType.Int64, rows.device).index_add_(0, rowOf, ones_like(rowOf), 1);
        return (scope.MoveToOuter(sum), scope.MoveToOuter(count));
    }
}

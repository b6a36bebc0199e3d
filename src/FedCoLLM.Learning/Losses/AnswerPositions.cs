using FedCoLLM.Learning.Data;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Losses;

/// <summary>
/// The answer-prediction positions of a batch: logits at position j predict token j + 1, so position j
/// is an answer position when labels[j + 1] != -100 (Hugging Face labels are NOT shifted).
/// <para>Row order contract: gathered rows are in row-major order (batch row, then ascending position).
/// Every per-position tensor in this project — teacher top-k rows, gathered student logits, targets — uses
/// this order, so a batch's teacher tensor is the concatenation, in batch row order, of each example's
/// <see cref="TeacherTopK"/> rows.</para>
/// <para>Getting the shift right is the point of this class: FATE's trainer masks position j by
/// labels[j] (bug B14), which skips the last prompt position and includes the one after the answer.</para>
/// </summary>
public static class AnswerPositions
{
    /// <summary>Boolean mask [B, T-1] over logits positions: mask[b, j] = labels[b, j + 1] != -100.</summary>
    public static Tensor Mask(Tensor labels)
    {
        RequireLabels(labels);
        using var next = labels.narrow(1, 1, labels.shape[1] - 1);
        return next.ne(Batch.IgnoreIndex);
    }

    /// <summary>Number of answer positions per batch row (length B), i.e. the TeacherTopK row count of each example.</summary>
    public static int[] CountPerRow(Tensor labels)
    {
        using var scope = NewDisposeScope();
        var counts = Mask(labels).sum(1, type: ScalarType.Int32).cpu();
        return counts.data<int>().ToArray();
    }

    /// <summary>Flat indices into a [B·T] view of per-position tensors (b·T + j), ascending: the contract order. int64 [N].</summary>
    public static Tensor FlatIndices(Tensor labels)
    {
        using var scope = NewDisposeScope();
        var mask = Mask(labels);
        long t = labels.shape[1];
        // nonzero lists (b, j) pairs in row-major order, which is the contract order.
        var pairs = mask.nonzero();
        var flat = pairs.select(1, 0).mul(t).add_(pairs.select(1, 1));
        return scope.MoveToOuter(flat);
    }

    /// <summary>
    /// Rows of a per-position tensor [B, T, ...] (logits [B,T,V], or hidden states [B,T,H] — selecting hidden
    /// states before the LM head saves computing logits at positions no loss reads) at the answer positions:
    /// [N, ...], contract order. Differentiable.
    /// </summary>
    public static Tensor Select(Tensor perPosition, Tensor labels)
    {
        RequireLabels(labels);
        if (perPosition.dim() < 2 || perPosition.shape[0] != labels.shape[0] || perPosition.shape[1] != labels.shape[1])
            throw new ArgumentException(
                $"perPosition has shape [{string.Join(", ", perPosition.shape)}]; it must start with the labels' [B, T] = [{labels.shape[0]}, {labels.shape[1]}].",
                nameof(perPosition));
        using var scope = NewDisposeScope();
        var trailing = perPosition.shape.Skip(2).ToArray();
        var flatShape = new long[] { labels.shape[0] * labels.shape[1] }.Concat(trailing).ToArray();
        var flat = perPosition.reshape(flatShape);
        var rows = flat.index_select(0, FlatIndices(labels).to(perPosition.device));
        return scope.MoveToOuter(rows);
    }

    /// <summary>The token each answer position predicts: labels[b, j + 1], int64 [N], contract order.</summary>
    public static Tensor Targets(Tensor labels)
    {
        RequireLabels(labels);
        using var scope = NewDisposeScope();
        var next = labels.narrow(1, 1, labels.shape[1] - 1);
        var targets = next.masked_select(next.ne(Batch.IgnoreIndex)).to(ScalarType.Int64);
        return scope.MoveToOuter(targets);
    }

    /// <summary>The batch row of each answer position, int64 [N], contract order.</summary>
    public static Tensor RowOfPosition(Tensor labels)
    {
        using var scope = NewDisposeScope();
        var rows = Mask(labels).nonzero().select(1, 0).contiguous();
        return scope.MoveToOuter(rows);
    }

    private static void RequireLabels(Tensor labels)
    {
        if (labels.dim() != 2)
            throw new ArgumentException($"labels must be [B, T]; got {labels.dim()} dimensions.", nameof(labels));
        if (labels.shape[1] < 1)
            throw new ArgumentException("labels has T = 0 positions.", nameof(labels));
        if (labels.dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new ArgumentException($"labels must be int64 or int32; got {labels.dtype}.", nameof(labels));
    }
}

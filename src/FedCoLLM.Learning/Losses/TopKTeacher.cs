using FedCoLLM.Learning.Data;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Losses;

/// <summary>
/// Producing and packaging a teacher's top-k logits: extract from dense answer-position logits, split a
/// batch's [N,k] tensors into one <see cref="TeacherTopK"/> per example (what crosses the network / is cached),
/// and assemble them back for a batch. All in the <see cref="AnswerPositions"/> contract order.
/// </summary>
public static class TopKTeacher
{
    /// <summary>Top-k of each row of logits [N,V]: (int32 indices [N,k], float32 logits [N,k]), largest first.</summary>
    public static (Tensor Indices, Tensor Logits) Extract(Tensor logits, int k)
    {
        if (logits.dim() != 2)
            throw new ArgumentException($"logits must be [N, V]; got {logits.dim()} dimensions.", nameof(logits));
        if (k < 1 || k > logits.shape[1])
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in [1, V = {logits.shape[1]}].");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (values, indices) = logits.topk(k, dim: 1, largest: true, sorted: true);
        return (scope.MoveToOuter(indices.to(ScalarType.Int32)), scope.MoveToOuter(values.to(ScalarType.Float32)));
    }

    /// <summary>
    /// Splits a batch's teacher tensors [N,k] into one record per batch row, using the answer-position counts of
    /// <paramref name="labels"/> [B,T]. Throws if N differs from the batch's answer-position total.
    /// </summary>
    public static IReadOnlyList<TeacherTopK> Split(Tensor indices, Tensor logits, Tensor labels)
    {
        if (indices.dim() != 2 || logits.dim() != 2 || !indices.shape.SequenceEqual(logits.shape))
            throw new ArgumentException($"indices [{string.Join(", ", indices.shape)}] and logits [{string.Join(", ", logits.shape)}] must both be [N, k].", nameof(indices));
        var counts = AnswerPositions.CountPerRow(labels);
        long total = counts.Sum(c => (long)c);
        if (indices.shape[0] != total)
            throw new ArgumentException($"The teacher tensors have {indices.shape[0]} rows but the batch has {total} answer positions ({string.Join(" + ", counts)} per row).", nameof(indices));
        int k = (int)indices.shape[1];
        int[] allIndices;
        float[] allLogits;
        using (var scope = NewDisposeScope())
        {
            allIndices = indices.to(ScalarType.Int32).cpu().contiguous().data<int>().ToArray();
            allLogits = logits.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        }
        var result = new TeacherTopK[counts.Length];
        int offset = 0;
        for (int b = 0; b < counts.Length; b++)
        {
            int len = counts[b] * k;
            result[b] = new TeacherTopK(k, allIndices[offset..(offset + len)], allLogits[offset..(offset + len)]);
            offset += len;
        }
        return result;
    }

    /// <summary>
    /// Concatenates per-example teacher records (one per batch row, in row order) into [N,k] tensors
    /// (int32 indices, float32 logits) matching the batch's answer positions row for row.
    /// </summary>
    public static (Tensor Indices, Tensor Logits) Assemble(IReadOnlyList<TeacherTopK> perRow, Batch batch)
    {
        var counts = AnswerPositions.CountPerRow(batch.Labels);
        if (perRow.Count != counts.Length)
            throw new ArgumentException($"Got {perRow.Count} teacher records for a batch of {counts.Length} rows.", nameof(perRow));
        if (perRow.Count == 0)
            throw new ArgumentException("Cannot assemble an empty batch: k is unknown.", nameof(perRow));
        int k = perRow[0].K;
        long totalRows = 0;
        for (int b = 0; b < counts.Length; b++)
        {
            var t = perRow[b];
            string who = $"batch row {b} (example {(b < batch.ExampleIndices.Length ? batch.ExampleIndices[b] : -1)})";
            if (t.K != k)
                throw new ArgumentException($"{who}: teacher k = {t.K}, but row 0 has k = {k}.", nameof(perRow));
            if (t.Indices.Length != t.Logits.Length || (k > 0 && t.Indices.Length % k != 0))
                throw new ArgumentException($"{who}: teacher record holds {t.Indices.Length} indices and {t.Logits.Length} logits; both must be rows × k (k = {k}).", nameof(perRow));
            if (t.Rows != counts[b])
                throw new ArgumentException($"{who}: teacher has {t.Rows} rows but the example has {counts[b]} answer positions. Were the teacher logits computed with a different prompt format, tokenizer or max length?", nameof(perRow));
            totalRows += t.Rows;
        }
        var indices = new int[totalRows * k];
        var logits = new float[totalRows * k];
        long offset = 0;
        foreach (var t in perRow)
        {
            t.Indices.CopyTo(indices, offset);
            t.Logits.CopyTo(logits, offset);
            offset += t.Indices.Length;
        }
        return (tensor(indices, [totalRows, k]), tensor(logits, [totalRows, k]));
    }
}

using FedCoLLM.Learning.Checkpoints;
using FedCoLLM.Learning.Losses;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Federation;

/// <summary>
/// A teacher's top-k logits over a whole public set, one <see cref="TeacherTopK"/> per example in dataset order,
/// as the bytes that travel between the server's phases. The byte form is a safetensors file:
/// <list type="bullet">
/// <item><c>rows</c>: int32 [examples], answer-prediction positions per example;</item>
/// <item><c>indices</c>: int32 [Σ rows, k], vocabulary ids, largest logit first;</item>
/// <item><c>logits</c>: float32 [Σ rows, k], the teacher's raw logits at those ids;</item>
/// <item>metadata <c>{"format": "fedcollm-teacher-topk", "version": "1", "k": "…"}</c>.</item>
/// </list>
/// Writing is deterministic (sorted keys, compact header), so equal logits give equal bytes and equal hashes.
/// </summary>
public sealed class TeacherLogitsFile
{
    public const string Format = "fedcollm-teacher-topk";
    public const string Version = "1";
    const string RowsKey = "rows", IndicesKey = "indices", LogitsKey = "logits";

    public int K { get; }
    public IReadOnlyList<TeacherTopK> Examples { get; }
    public int Count => Examples.Count;
    public long TotalRows => Examples.Sum(e => (long)e.Rows);

    /// <summary>Checks that every example has the same k and whole rows.</summary>
    public TeacherLogitsFile(IReadOnlyList<TeacherTopK> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0)
            throw new ArgumentException("A teacher-logits file needs at least one example; the public set is empty.", nameof(examples));
        K = examples[0].K;
        if (K < 1) throw new ArgumentException($"Example 0 has k = {K}; k must be at least 1.", nameof(examples));
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i] ?? throw new ArgumentException($"Example {i} is null.", nameof(examples));
            if (e.K != K)
                throw new ArgumentException($"Example {i} has k = {e.K} but example 0 has k = {K}; one teacher pass uses one k.", nameof(examples));
            if (e.Indices.Length != e.Logits.Length || e.Indices.Length % K != 0)
                throw new ArgumentException($"Example {i} holds {e.Indices.Length} indices and {e.Logits.Length} logits; both must be rows × k (k = {K}).", nameof(examples));
        }
        Examples = examples;
    }

    public byte[] ToBytes()
    {
        long total = TotalRows;
        var rows = Examples.Select(e => e.Rows).ToArray();
        var indices = new int[total * K];
        var logits = new float[total * K];
        long offset = 0;
        foreach (var e in Examples)
        {
            e.Indices.CopyTo(indices, offset);
            e.Logits.CopyTo(logits, offset);
            offset += e.Indices.Length;
        }
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            [RowsKey] = tensor(rows, [rows.Length]),
            [IndicesKey] = tensor(indices, [total, K]),
            [LogitsKey] = tensor(logits, [total, K]),
        };
        return SafeTensors.ToBytes(tensors, new Dictionary<string, string>
        {
            ["format"] = Format,
            ["version"] = Version,
            ["k"] = K.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    /// <summary>Reads <see cref="ToBytes"/>'s form; throws <see cref="InvalidDataException"/> naming
    /// <paramref name="source"/> and the problem on anything else.</summary>
    public static TeacherLogitsFile FromBytes(byte[] data, string source = "<teacher logits>")
    {
        ArgumentNullException.ThrowIfNull(data);
        Dictionary<string, Tensor> tensors;
        try { tensors = SafeTensors.FromBytes(data, source); }
        catch (InvalidDataException ex) { throw Bad(source, ex.Message); }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // SafeTensors' header parser lets JSON shape errors through as other exception types.
            throw Bad(source, $"it is not a safetensors file ({ex.GetType().Name}: {ex.Message})");
        }
        try
        {
            foreach (var key in new[] { RowsKey, IndicesKey, LogitsKey })
                if (!tensors.ContainsKey(key))
                    throw Bad(source, $"tensor '{key}' is missing (it has [{string.Join(", ", tensors.Keys.Order(StringComparer.Ordinal))}])");
            var extra = tensors.Keys.FirstOrDefault(k => k is not (RowsKey or IndicesKey or LogitsKey));
            if (extra is not null) throw Bad(source, $"it has an unexpected tensor '{extra}'");
            var (rowsT, idxT, logT) = (tensors[RowsKey], tensors[IndicesKey], tensors[LogitsKey]);
            Require(rowsT, ScalarType.Int32, 1, RowsKey, source);
            Require(idxT, ScalarType.Int32, 2, IndicesKey, source);
            Require(logT, ScalarType.Float32, 2, LogitsKey, source);
            if (!idxT.shape.SequenceEqual(logT.shape))
                throw Bad(source, $"'indices' has shape [{string.Join(", ", idxT.shape)}] but 'logits' has [{string.Join(", ", logT.shape)}]; both must be [total rows, k]");
            long total = idxT.shape[0];
            int k = checked((int)idxT.shape[1]);
            if (k < 1) throw Bad(source, "k (the second dimension of 'indices') is 0");
            var rows = rowsT.data<int>().ToArray();
            if (rows.Length == 0) throw Bad(source, "it holds no examples");
            long sum = 0;
            for (int i = 0; i < rows.Length; i++)
            {
                if (rows[i] < 0) throw Bad(source, $"example {i} has a negative row count {rows[i]}");
                sum += rows[i];
            }
            if (sum != total)
                throw Bad(source, $"the per-example row counts add up to {sum} but 'indices' has {total} rows");
            var indices = idxT.data<int>().ToArray();
            var logits = logT.data<float>().ToArray();
            for (long i = 0; i < indices.LongLength; i++)
                if (indices[i] < 0) throw Bad(source, $"'indices' holds the negative token id {indices[i]} at flat position {i}");
            for (long i = 0; i < logits.LongLength; i++)
                if (float.IsNaN(logits[i])) throw Bad(source, $"'logits' holds NaN at flat position {i}; the teacher diverged");
            var examples = new TeacherTopK[rows.Length];
            long offset = 0;
            for (int i = 0; i < rows.Length; i++)
            {
                long len = (long)rows[i] * k;
                examples[i] = new TeacherTopK(k, indices[(int)offset..(int)(offset + len)], logits[(int)offset..(int)(offset + len)]);
                offset += len;
            }
            return new TeacherLogitsFile(examples);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>Checks that this file belongs to a dataset whose examples have <paramref name="answerRows"/>
    /// answer-prediction positions each (the answer lengths in tokens) and returns the examples.</summary>
    public IReadOnlyList<TeacherTopK> AlignedWith(IReadOnlyList<int> answerRows, string dataset)
    {
        if (answerRows.Count != Count)
            throw new InvalidDataException($"The teacher logits cover {Count} examples but '{dataset}' has {answerRows.Count}; compute them on the same public set.");
        for (int i = 0; i < Count; i++)
            if (Examples[i].Rows != answerRows[i])
                throw new InvalidDataException($"Teacher logits example {i} has {Examples[i].Rows} rows but example {i} of '{dataset}' has {answerRows[i]} answer tokens; compute them on the same public set with the same tokenizer and prompt format.");
        return Examples;
    }

    static void Require(Tensor t, ScalarType dtype, int dims, string key, string source)
    {
        if (t.dtype != dtype)
            throw Bad(source, $"'{key}' has dtype {t.dtype}; it must be {dtype}");
        if (t.dim() != dims)
            throw Bad(source, $"'{key}' has {t.dim()} dimensions; it must have {dims}");
    }

    static InvalidDataException Bad(string source, string why) =>
        new($"{source} is not a valid teacher-logits file: {why}. Produce it with FederationSteps.TeacherLogits (TeacherLogitsFile.ToBytes).");
}

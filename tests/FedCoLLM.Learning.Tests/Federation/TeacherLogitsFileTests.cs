using FedCoLLM.Learning.Checkpoints;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Losses;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests.Federation;

public class TeacherLogitsFileTests
{
    static TeacherTopK[] Examples(int seed, int k = 4, params int[] rows)
    {
        var rng = new Random(seed);
        return rows.Select(r => new TeacherTopK(k,
            Enumerable.Range(0, r * k).Select(_ => rng.Next(0, 4096)).ToArray(),
            Enumerable.Range(0, r * k).Select(_ => (float)(rng.NextDouble() * 20 - 10)).ToArray())).ToArray();
    }

    [Fact]
    public void Bytes_round_trip_exactly_and_are_deterministic()
    {
        var examples = Examples(1, 4, 3, 1, 0, 5);
        var bytes = new TeacherLogitsFile(examples).ToBytes();
        var back = TeacherLogitsFile.FromBytes(bytes);
        Assert.Equal(4, back.K);
        Assert.Equal(4, back.Count);
        Assert.Equal(9, back.TotalRows);
        for (int i = 0; i < examples.Length; i++)
        {
            Assert.Equal(examples[i].Indices, back.Examples[i].Indices);
            Assert.Equal(examples[i].Logits, back.Examples[i].Logits);
        }
        Assert.Equal(bytes, back.ToBytes());
        Assert.Equal(bytes, new TeacherLogitsFile(Examples(1, 4, 3, 1, 0, 5)).ToBytes());
    }

    [Fact]
    public void It_is_a_safetensors_file_with_rows_indices_and_logits()
    {
        var bytes = new TeacherLogitsFile(Examples(2, 3, 2, 4)).ToBytes();
        var tensors = SafeTensors.FromBytes(bytes);
        try
        {
            Assert.Equal(["indices", "logits", "rows"], tensors.Keys.Order(StringComparer.Ordinal));
            Assert.Equal([6L, 3L], tensors["indices"].shape);
            Assert.Equal(ScalarType.Int32, tensors["indices"].dtype);
            Assert.Equal(ScalarType.Float32, tensors["logits"].dtype);
            Assert.Equal([2, 4], tensors["rows"].data<int>().ToArray());
        }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    static byte[] Write(Dictionary<string, Tensor> tensors)
    {
        try { return SafeTensors.ToBytes(tensors); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "empty", "shorter than the 8-byte header length" },
        { "garbage", "not a valid teacher-logits file" },
        { "truncated", "not a valid teacher-logits file" },
        { "adapter", "tensor 'rows' is missing" },
        { "float-indices", "'indices' has dtype Float32" },
        { "row-sum", "add up to 3 but 'indices' has 4 rows" },
        { "negative-index", "negative token id -1" },
        { "nan", "NaN" },
        { "extra", "unexpected tensor 'extra'" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_input_fails_with_a_message_naming_the_problem(string kind, string expected)
    {
        var good = new TeacherLogitsFile(Examples(3, 2, 1, 3)).ToBytes();
        byte[] data = kind switch
        {
            "empty" => [],
            "garbage" => Enumerable.Range(0, 64).Select(i => (byte)(i * 37 + 11)).ToArray(),
            "truncated" => good[..(good.Length - 5)],
            "adapter" => Write(new() { ["base_model.model.x.lora_A.weight"] = ones(2, 2) }),
            "float-indices" => Write(new() { ["rows"] = tensor(new[] { 1, 3 }), ["indices"] = zeros(4, 2), ["logits"] = zeros(4, 2) }),
            "row-sum" => Write(new() { ["rows"] = tensor(new[] { 1, 2 }), ["indices"] = zeros(4, 2, dtype: ScalarType.Int32), ["logits"] = zeros(4, 2) }),
            "negative-index" => Write(new() { ["rows"] = tensor(new[] { 1 }), ["indices"] = full(1, 2, -1, dtype: ScalarType.Int32), ["logits"] = zeros(1, 2) }),
            "nan" => Write(new() { ["rows"] = tensor(new[] { 1 }), ["indices"] = zeros(1, 2, dtype: ScalarType.Int32), ["logits"] = full(1, 2, float.NaN) }),
            "extra" => Write(new() { ["rows"] = tensor(new[] { 1 }), ["indices"] = zeros(1, 2, dtype: ScalarType.Int32), ["logits"] = zeros(1, 2), ["extra"] = zeros(1) }),
            _ => throw new ArgumentException(kind),
        };
        var ex = Assert.Throws<InvalidDataException>(() => TeacherLogitsFile.FromBytes(data, "teacher.bin"));
        Assert.Contains("teacher.bin", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Examples_with_different_k_are_rejected()
    {
        var mixed = Examples(4, 2, 1).Concat(Examples(5, 3, 1)).ToArray();
        var ex = Assert.Throws<ArgumentException>(() => new TeacherLogitsFile(mixed));
        Assert.Contains("k = 3", ex.Message);
    }

    [Fact]
    public void Alignment_with_a_dataset_checks_counts_and_rows()
    {
        var file = new TeacherLogitsFile(Examples(6, 2, 2, 1));
        Assert.Same(file.Examples, file.AlignedWith([2, 1], "public.jsonl"));
        Assert.Contains("2 examples", Assert.Throws<InvalidDataException>(() => file.AlignedWith([2, 1, 1], "public.jsonl")).Message);
        Assert.Contains("example 1 of 'public.jsonl' has 3 answer tokens", Assert.Throws<InvalidDataException>(() => file.AlignedWith([2, 3], "public.jsonl")).Message);
    }
}

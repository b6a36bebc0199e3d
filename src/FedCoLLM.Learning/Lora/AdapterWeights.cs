using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FedCoLLM.Learning.Checkpoints;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Lora;

/// <summary>One LoRA matrix: its PEFT key, shape and float32 values in row-major order.</summary>
public sealed class AdapterTensor
{
    public string Name { get; }
    public ImmutableArray<long> Shape { get; }
    public ImmutableArray<float> Values { get; }

    public AdapterTensor(string name, IEnumerable<long> shape, ImmutableArray<float> values)
    {
        Name = name;
        Shape = [.. shape];
        Values = values;
        long count = Shape.Aggregate(1L, (a, b) => a * b);
        if (Shape.Any(d => d < 0) || count != values.Length)
            throw new ArgumentException($"Adapter tensor '{name}': shape {ShapeText(Shape)} holds {count} values but {values.Length} were given.");
    }

    /// <summary>Copies a tensor's values (converted to float32, on the CPU).</summary>
    public static AdapterTensor FromTensor(string name, Tensor t)
    {
        if (!is_floating_point(t))
            throw new ArgumentException($"Adapter tensor '{name}' has dtype {t.dtype}; LoRA weights must be floating point.");
        using var f = t.detach().to(ScalarType.Float32).cpu().contiguous();
        return new AdapterTensor(name, f.shape, ImmutableCollectionsMarshal.AsImmutableArray(f.data<float>().ToArray()));
    }

    /// <summary>A new float32 CPU tensor holding a copy of the values.</summary>
    public Tensor ToTensor() => tensor(Values.ToArray(), [.. Shape]);

    public bool ShapeEquals(AdapterTensor other) => Shape.SequenceEqual(other.Shape);

    internal static string ShapeText(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}

/// <summary>
/// The trainable state of a LoRA adapter as plain, immutable data: PEFT key → float32 matrix, in
/// ordinal key order. This is what FedAvg averages and what crosses the network. Its canonical byte
/// form is exactly the <c>adapter_model.safetensors</c> PEFT would read (keys sorted, metadata
/// {"format": "pt"}), so equal weights give equal bytes and equal <see cref="ContentHash"/>es.
/// </summary>
public sealed class AdapterWeights
{
    readonly ImmutableSortedDictionary<string, AdapterTensor> tensors;

    public AdapterWeights(IEnumerable<AdapterTensor> tensors)
    {
        var builder = ImmutableSortedDictionary.CreateBuilder<string, AdapterTensor>(StringComparer.Ordinal);
        foreach (var t in tensors)
            if (!builder.TryAdd(t.Name, t))
                throw new ArgumentException($"Adapter key '{t.Name}' occurs twice.");
        this.tensors = builder.ToImmutable();
    }

    public int Count => tensors.Count;
    public IEnumerable<string> Names => tensors.Keys;
    public IEnumerable<AdapterTensor> Tensors => tensors.Values;
    public AdapterTensor this[string name] => tensors.TryGetValue(name, out var t) ? t
        : throw new KeyNotFoundException($"Adapter has no key '{name}'.");
    public bool Contains(string name) => tensors.ContainsKey(name);
    public long ParameterCount => tensors.Values.Sum(t => (long)t.Values.Length);

    public static AdapterWeights FromTensors(IEnumerable<KeyValuePair<string, Tensor>> tensors) =>
        new(tensors.Select(kv => AdapterTensor.FromTensor(kv.Key, kv.Value)));

    /// <summary>The canonical bytes: a safetensors file, as PEFT's adapter_model.safetensors.</summary>
    public byte[] ToBytes() => ToBytes(AdapterWireDtype.Float32);

    /// <summary>The canonical bytes with every matrix rounded to <paramref name="dtype"/> (PEFT reads bfloat16 and float16
    /// adapters too). <see cref="FromBytes"/> widens them back to float32.</summary>
    public byte[] ToBytes(AdapterWireDtype dtype)
    {
        var type = dtype.ScalarType();
        var dict = tensors.ToDictionary(kv => kv.Key, kv =>
        {
            var t = kv.Value.ToTensor();
            if (type == ScalarType.Float32) return t;
            using (t) return t.to(type);
        }, StringComparer.Ordinal);
        try { return SafeTensors.ToBytes(dict); }
        finally { foreach (var t in dict.Values) t.Dispose(); }
    }

    /// <summary>Reads safetensors bytes; half-precision tensors are widened to float32.</summary>
    public static AdapterWeights FromBytes(byte[] data, string source = "<adapter bytes>")
    {
        var dict = SafeTensors.FromBytes(data, source);
        try { return FromTensors(dict); }
        finally { foreach (var t in dict.Values) t.Dispose(); }
    }

    /// <summary>Lower-case hex SHA-256 of <see cref="ToBytes"/>.</summary>
    public string ContentHash() => Convert.ToHexStringLower(SHA256.HashData(ToBytes()));

    /// <summary>Same keys, shapes and bit patterns (so NaN equals NaN and 0 differs from −0).</summary>
    public bool BitwiseEquals(AdapterWeights other) =>
        Count == other.Count && tensors.All(kv =>
            other.tensors.TryGetValue(kv.Key, out var o) && kv.Value.ShapeEquals(o)
            && MemoryMarshal.AsBytes(kv.Value.Values.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(o.Values.AsSpan())));
}

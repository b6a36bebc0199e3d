using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Checkpoints;

/// <summary>
/// The safetensors file format (8-byte little-endian header length, JSON header, raw little-endian data),
/// as written by huggingface/safetensors. Hand-written because no .NET package writes the
/// <c>__metadata__</c> block transformers requires ("format": "pt") and reads shards lazily.
/// Writing is deterministic: keys in ordinal order, compact JSON, header padded with spaces to 8 bytes.
/// </summary>
public static class SafeTensors
{
    public const string MetadataKey = "__metadata__";

    public sealed record Entry(string Name, ScalarType DType, long[] Shape, long Begin, long End);

    public sealed record Header(IReadOnlyList<Entry> Entries, IReadOnlyDictionary<string, string> Metadata, long DataStart);

    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
            Write(fs, tensors, metadata);
        File.Move(tmp, path, overwrite: true); // never leave a half-written checkpoint behind
    }

    /// <summary>The exact bytes <see cref="Save"/> would write.</summary>
    public static byte[] ToBytes(IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var ms = new MemoryStream();
        Write(ms, tensors, metadata);
        return ms.ToArray();
    }

    public static void Write(Stream output, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var header = new JsonObject();
        var meta = new JsonObject();
        foreach (var (k, v) in (metadata ?? new Dictionary<string, string> { ["format"] = "pt" }).OrderBy(p => p.Key, StringComparer.Ordinal))
            meta[k] = v;
        header[MetadataKey] = meta;
        long offset = 0;
        var blobs = new List<byte[]>(names.Count);
        foreach (var name in names)
        {
            using var t = tensors[name].detach().cpu().contiguous();
            var bytes = t.bytes.ToArray();
            blobs.Add(bytes);
            header[name] = new JsonObject
            {
                ["dtype"] = DTypeName(t.dtype, name),
                ["shape"] = new JsonArray(t.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.LongLength),
            };
            offset += bytes.LongLength;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        output.Write(BitConverter.GetBytes((ulong)padded));
        output.Write(json);
        for (int i = json.Length; i < padded; i++) output.WriteByte((byte)' ');
        foreach (var b in blobs) output.Write(b);
    }

    public static Header ReadHeader(string path)
    {
        using var fs = File.OpenRead(path);
        return ReadHeader(fs, path);
    }

    /// <summary>Loads every tensor (on the CPU, in its stored dtype).</summary>
    public static Dictionary<string, Tensor> Load(string path) => Load(path, _ => true);

    public static Dictionary<string, Tensor> Load(string path, Func<string, bool> include)
    {
        using var fs = File.OpenRead(path);
        return Read(fs, path, include);
    }

    /// <summary>Loads every tensor from bytes in the safetensors format; <paramref name="source"/>
    /// names them in error messages.</summary>
    public static Dictionary<string, Tensor> FromBytes(byte[] data, string source = "<bytes>")
    {
        using var ms = new MemoryStream(data, writable: false);
        return Read(ms, source, _ => true);
    }

    static Dictionary<string, Tensor> Read(Stream fs, string path, Func<string, bool> include)
    {
        var header = ReadHeader(fs, path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var e in header.Entries.Where(e => include(e.Name)))
        {
            var bytes = new byte[e.End - e.Begin];
            fs.Seek(header.DataStart + e.Begin, SeekOrigin.Begin);
            fs.ReadExactly(bytes);
            var t = empty(e.Shape, e.DType);
            t.bytes = bytes;
            result[e.Name] = t;
        }
        return result;
    }

    /// <summary>The header of safetensors bytes (e.g. a client's update blob); <paramref name="source"/> names them in errors.</summary>
    public static Header ReadHeader(byte[] data, string source)
    {
        using var ms = new MemoryStream(data, writable: false);
        return ReadHeader(ms, source);
    }

    static Header ReadHeader(Stream fs, string path)
    {
        // Headers come from other nodes too (client updates): every malformed shape of the JSON is an InvalidDataException
        // naming the file, never a NullReferenceException or an overflow.
        try { return ParseHeader(fs, path); }
        catch (Exception ex) when (ex is InvalidOperationException or NullReferenceException or FormatException
                                       or OverflowException or ArgumentException or KeyNotFoundException)
        {
            throw Bad(path, $"the header is malformed ({ex.GetType().Name}: {ex.Message})");
        }
    }

    static Header ParseHeader(Stream fs, string path)
    {
        var lenBytes = new byte[8];
        if (fs.ReadAtLeast(lenBytes, 8, throwOnEndOfStream: false) != 8) throw Bad(path, $"file is shorter than the 8-byte header length ({fs.Length} bytes; truncated?)");
        ulong len = BitConverter.ToUInt64(lenBytes);
        if (len > 100_000_000 || (long)len + 8 > fs.Length)
            throw Bad(path, $"header length {len} does not fit a file of {fs.Length} bytes");
        var json = new byte[len];
        fs.ReadExactly(json);
        if (json.Length > 0 && json[0] != (byte)'{') throw Bad(path, "the header is not a JSON object");
        JsonObject root;
        try { root = JsonNode.Parse(json)!.AsObject(); }
        catch (JsonException ex) { throw Bad(path, $"header is not valid JSON ({ex.Message})"); }

        long dataStart = 8 + (long)len, dataLength = fs.Length - dataStart;
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<Entry>();
        foreach (var (name, node) in root)
        {
            if (name == MetadataKey)
            {
                foreach (var (k, v) in node!.AsObject()) meta[k] = v!.GetValue<string>();
                continue;
            }
            var o = node!.AsObject();
            var dtype = ParseDType(o["dtype"]!.GetValue<string>(), path, name);
            var shape = o["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offsets = o["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            if (shape.Any(d => d < 0)) throw Bad(path, $"tensor '{name}' has a negative dimension in shape [{string.Join(",", shape)}]");
            long expected = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * ElementSize(dtype));
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] - offsets[0] != expected || offsets[1] > dataLength)
                throw Bad(path, $"tensor '{name}': data_offsets [{string.Join(",", offsets)}] do not hold shape [{string.Join(",", shape)}] of {dtype} inside {dataLength} data bytes" +
                    (offsets.Length == 2 && offsets[1] > dataLength ? " (the file is truncated)" : ""));
            entries.Add(new Entry(name, dtype, shape, offsets[0], offsets[1]));
        }
        return new Header(entries, meta, dataStart);
    }

    static InvalidDataException Bad(string path, string why) =>
        new($"Invalid safetensors file '{path}': {why}. Re-export it with safetensors' save_file or save_pretrained.");

    static string DTypeName(ScalarType t, string name) => t switch
    {
        ScalarType.Float32 => "F32", ScalarType.Float16 => "F16", ScalarType.BFloat16 => "BF16",
        ScalarType.Float64 => "F64", ScalarType.Int64 => "I64", ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16", ScalarType.Int8 => "I8", ScalarType.Byte => "U8", ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"tensor '{name}': dtype {t} has no safetensors name"),
    };

    static ScalarType ParseDType(string s, string path, string name) => s switch
    {
        "F32" => ScalarType.Float32, "F16" => ScalarType.Float16, "BF16" => ScalarType.BFloat16,
        "F64" => ScalarType.Float64, "I64" => ScalarType.Int64, "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16, "I8" => ScalarType.Int8, "U8" => ScalarType.Byte, "BOOL" => ScalarType.Bool,
        _ => throw Bad(path, $"tensor '{name}' has unsupported dtype '{s}'"),
    };

    static long ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };
}

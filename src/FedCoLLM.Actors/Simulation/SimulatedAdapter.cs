using System.Buffers.Binary;
using System.Text;
using FedCoLLM.Learning.Checkpoints;

namespace FedCoLLM.Actors.Simulation;

/// <summary>
/// Adapter-shaped bytes for a simulated federation: a float32 safetensors file of a given parameter count, laid out as
/// LoRA A/B pairs of at most <see cref="TensorParameters"/> values each, so the server's update screen (keys, shapes,
/// dtype, finite values, distance) accepts them exactly as it accepts a trained adapter. Written without TorchSharp,
/// deterministically from a seed: equal seeds give equal bytes, hence equal content addresses.
/// </summary>
public static class SimulatedAdapter
{
    public const int TensorParameters = 4096;

    /// <summary>A fresh adapter of <paramref name="parameters"/> float32 values, uniform in ±0.05, from <paramref name="seed"/>.</summary>
    public static byte[] Create(long parameters, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parameters, 1);
        var random = new Random(unchecked((int)(seed ^ (seed >> 32))));
        var values = new float[parameters];
        for (long i = 0; i < parameters; i++) values[i] = (float)((random.NextDouble() - 0.5) * 0.1);
        return Write(values);
    }

    /// <summary><paramref name="adapter"/> plus seeded noise of 1 % of its value range: a plausible "trained" update that
    /// stays well inside the screen's distance bound. The layout (keys, shapes) is the input's.</summary>
    public static byte[] Perturb(byte[] adapter, long seed)
    {
        var header = SafeTensors.ReadHeader(adapter, "a simulated adapter");
        var output = (byte[])adapter.Clone();
        var random = new Random(unchecked((int)(seed ^ (seed >> 32))));
        foreach (var entry in header.Entries)
            for (long at = header.DataStart + entry.Begin; at < header.DataStart + entry.End; at += 4)
            {
                var span = output.AsSpan((int)at, 4);
                var value = BinaryPrimitives.ReadSingleLittleEndian(span) + (float)((random.NextDouble() - 0.5) * 0.001);
                BinaryPrimitives.WriteSingleLittleEndian(span, value);
            }
        return output;
    }

    /// <summary>The parameter count of a simulated adapter whose file is about <paramref name="bytes"/> long.</summary>
    public static long ParametersForBytes(long bytes) => Math.Max(1, bytes / 4);

    static byte[] Write(float[] values)
    {
        // Pairs of A/B tensors of at most TensorParameters values, in the key order safetensors writers use (ordinal).
        var sizes = new List<int>();
        for (long left = values.LongLength; left > 0; left -= TensorParameters) sizes.Add((int)Math.Min(TensorParameters, left));
        var names = sizes.Select((_, i) => $"base_model.model.sim.{i / 2:D5}.lora_{(i % 2 == 0 ? 'A' : 'B')}.weight").ToArray();
        var json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (int i = 0; i < sizes.Count; i++)
        {
            json.Append($",\"{names[i]}\":{{\"dtype\":\"F32\",\"shape\":[{sizes[i]}],\"data_offsets\":[{offset},{offset + 4L * sizes[i]}]}}");
            offset += 4L * sizes[i];
        }
        json.Append('}');
        var headerBytes = Encoding.UTF8.GetBytes(json.ToString());
        int padded = (headerBytes.Length + 7) / 8 * 8;
        var output = new byte[8 + padded + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(output, (ulong)padded);
        headerBytes.CopyTo(output, 8);
        output.AsSpan(8 + headerBytes.Length, padded - headerBytes.Length).Fill((byte)' ');
        for (long i = 0; i < values.LongLength; i++)
            BinaryPrimitives.WriteSingleLittleEndian(output.AsSpan((int)(8 + padded + 4 * i), 4), values[i]);
        return output;
    }
}

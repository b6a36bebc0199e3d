using System.Runtime.InteropServices;
using FedCoLLM.Learning.Checkpoints;

namespace FedCoLLM.Learning.Federation;

/// <summary>Why a client update was refused: a short, stable word (journaled with the reason, counted in tests).</summary>
public static class UpdateFault
{
    public const string Oversized = "oversized";
    public const string Malformed = "malformed";
    public const string Keys = "keys";
    public const string Shape = "shape";
    public const string DType = "dtype";
    public const string NonFinite = "non-finite";
    public const string Norm = "norm";
    public const string SampleCount = "sample-count";
}

/// <summary>The bounds a client update must meet before a round takes it (<c>job.updates</c> in the job file).</summary>
/// <param name="MaxNormRatio">The update's distance from the round's adapter, ‖φ_k − φ‖₂, may be at most this many times
/// ‖φ‖₂ (the round's adapter's own norm; when that is 0, the bound is this number itself).</param>
public sealed record UpdateLimits(double MaxNormRatio)
{
    /// <summary>An honest update holds the round's adapter's keys, shapes and dtype, so its data section has the same size;
    /// only the JSON header may differ (its metadata). Anything longer than this is refused before it is fetched.</summary>
    public const long HeaderSlack = 64 * 1024;

    /// <summary>n_k above this is no dataset a client trained on in one round, and would let one client outweigh the rest
    /// (or overflow FedAvg's 64-bit sum).</summary>
    public const long MaxSampleCount = 1_000_000_000_000;

    public static long MaxBytes(long referenceSize) => referenceSize + HeaderSlack;

    public UpdateLimits Validate() => MaxNormRatio > 0 && double.IsFinite(MaxNormRatio) ? this
        : throw new ArgumentException($"UpdateLimits.MaxNormRatio = {MaxNormRatio}; it must be a positive number.", nameof(MaxNormRatio));
}

/// <summary>The screen's answer: <see cref="Fault"/> and <see cref="Reason"/> are null when the update is accepted.</summary>
public sealed record UpdateVerdict(string? Fault, string? Reason, double DeltaNorm = double.NaN, double ReferenceNorm = double.NaN)
{
    public bool Accepted => Fault is null;

    public static UpdateVerdict Refused(string fault, string reason) => new(fault, reason);
}

/// <summary>
/// Decides whether a client's adapter update may enter a round, before it is journaled as accepted, so that a hostile or
/// broken client cannot stop the round (FedAvg refuses NaN and mismatched layouts, which would fail the whole job). The
/// update must be a safetensors file with exactly the keys, shapes and dtypes of the round's adapter (the one the client
/// was told to train from), finite values, and a distance from that adapter within <see cref="UpdateLimits.MaxNormRatio"/>.
/// Reads raw little-endian floats; no TorchSharp, so it runs anywhere and cannot be made to allocate tensors by a header.
/// </summary>
public static class UpdateScreen
{
    /// <summary>Checks the size and n_k, which need no bytes: done before an update is fetched at all.</summary>
    public static UpdateVerdict CheckDeclared(long updateSize, long referenceSize, long sampleCount)
    {
        var max = UpdateLimits.MaxBytes(referenceSize);
        if (updateSize > max)
            return UpdateVerdict.Refused(UpdateFault.Oversized,
                $"the update is {updateSize:N0} bytes; the round's adapter is {referenceSize:N0} bytes and an update with its keys, shapes and dtype is at most {max:N0}");
        if (sampleCount > UpdateLimits.MaxSampleCount)
            return UpdateVerdict.Refused(UpdateFault.SampleCount,
                $"the update claims {sampleCount:N0} training samples (n_k); more than {UpdateLimits.MaxSampleCount:N0} is no client's round of data and would outweigh every other client");
        return new UpdateVerdict(null, null);
    }

    public static UpdateVerdict Check(byte[] reference, byte[] update, long sampleCount, UpdateLimits limits)
    {
        var declared = CheckDeclared(update.LongLength, reference.LongLength, sampleCount);
        if (!declared.Accepted) return declared;

        SafeTensors.Header mine, theirs;
        try { theirs = SafeTensors.ReadHeader(update, "the update"); }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException)
        {
            return UpdateVerdict.Refused(UpdateFault.Malformed, ex.Message);
        }
        // The round's adapter was written by this federation; if it does not parse, that is this node's fault, not the client's.
        mine = SafeTensors.ReadHeader(reference, "the round's adapter");

        var expected = mine.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var got = theirs.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        if (expected.Keys.Order(StringComparer.Ordinal).FirstOrDefault(k => !got.ContainsKey(k)) is { } missing)
            return UpdateVerdict.Refused(UpdateFault.Keys, $"key '{missing}' of the round's adapter is missing ({got.Count} keys sent, {expected.Count} expected)");
        if (got.Keys.Order(StringComparer.Ordinal).FirstOrDefault(k => !expected.ContainsKey(k)) is { } extra)
            return UpdateVerdict.Refused(UpdateFault.Keys, $"key '{extra}' is not in the round's adapter (a different LoRA target_modules or model)");

        double delta = 0, norm = 0;
        foreach (var name in expected.Keys.Order(StringComparer.Ordinal))
        {
            var (e, g) = (expected[name], got[name]);
            if (!e.Shape.SequenceEqual(g.Shape))
                return UpdateVerdict.Refused(UpdateFault.Shape, $"key '{name}' has shape [{string.Join(", ", g.Shape)}]; the round's adapter has [{string.Join(", ", e.Shape)}] (a different LoRA rank or model)");
            if (e.DType != g.DType)
                return UpdateVerdict.Refused(UpdateFault.DType, $"key '{name}' is {g.DType}; the round's adapter is {e.DType}");
            if (e.DType is not (TorchSharp.torch.ScalarType.Float32 or TorchSharp.torch.ScalarType.BFloat16 or TorchSharp.torch.ScalarType.Float16))
                return UpdateVerdict.Refused(UpdateFault.DType, $"key '{name}' is {e.DType}; adapters are exchanged as float32, bfloat16 or float16 (job.adapters.wire-dtype)");
            var x = Floats(update, theirs, g);
            var r = Floats(reference, mine, e);
            for (int i = 0; i < x.Length; i++)
            {
                if (!float.IsFinite(x[i]))
                    return UpdateVerdict.Refused(UpdateFault.NonFinite, $"key '{name}' holds {x[i]} at flat index {i}; a diverged client sits the round out");
                double d = (double)x[i] - r[i];
                delta += d * d;
                norm += (double)r[i] * r[i];
            }
        }
        double deltaNorm = Math.Sqrt(delta), referenceNorm = Math.Sqrt(norm);
        double bound = referenceNorm > 0 ? limits.MaxNormRatio * referenceNorm : limits.MaxNormRatio;
        if (!(deltaNorm <= bound))
            return new UpdateVerdict(UpdateFault.Norm,
                $"the update is {deltaNorm:G4} (L2) away from the round's adapter, whose own norm is {referenceNorm:G4}; job.updates.max-norm-ratio = {limits.MaxNormRatio:G4} allows at most {bound:G4}",
                deltaNorm, referenceNorm);
        return new UpdateVerdict(null, null, deltaNorm, referenceNorm);
    }

    /// <summary>The entry's values as float32 (half-precision wire dtypes widened exactly).</summary>
    static ReadOnlySpan<float> Floats(byte[] data, SafeTensors.Header header, SafeTensors.Entry entry)
    {
        var bytes = data.AsSpan().Slice((int)(header.DataStart + entry.Begin), (int)(entry.End - entry.Begin));
        if (entry.DType == TorchSharp.torch.ScalarType.Float32) return MemoryMarshal.Cast<byte, float>(bytes);
        var halves = MemoryMarshal.Cast<byte, ushort>(bytes);
        var floats = new float[halves.Length];
        for (int i = 0; i < halves.Length; i++)
            floats[i] = entry.DType == TorchSharp.torch.ScalarType.BFloat16
                ? BitConverter.Int32BitsToSingle(halves[i] << 16)
                : (float)BitConverter.UInt16BitsToHalf(halves[i]);
        return floats;
    }
}

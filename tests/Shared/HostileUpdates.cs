using System.Collections.Immutable;
using FedCoLLM.Learning.Checkpoints;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;
using static TorchSharp.torch;

namespace FedCoLLM.Tests.Shared;

/// <summary>
/// Bad client updates made from the round's real adapter, one per fault the screen knows (<see cref="UpdateFault"/>):
/// each differs from an honest update in that one way only, so a test that sees the expected fault knows which check
/// caught it. <see cref="SampleCount"/> is the n_k a client would claim with it.
/// </summary>
public static class HostileUpdates
{
    public const long HonestSamples = 8;

    /// <summary>The n_k a hostile client claims with the update of <paramref name="fault"/>.</summary>
    public static long SampleCount(string fault) => fault == UpdateFault.SampleCount ? 1_000_000_000_000_000 : HonestSamples;

    /// <summary>Every fault, in a fixed order (client ids in tests are these words).</summary>
    public static readonly string[] Faults =
    [
        UpdateFault.NonFinite, UpdateFault.Keys, UpdateFault.Shape, UpdateFault.DType, UpdateFault.Oversized,
        UpdateFault.Norm, UpdateFault.Malformed, UpdateFault.SampleCount,
    ];

    /// <summary>The bytes a client with <paramref name="fault"/> sends, given the adapter it was told to train from.</summary>
    public static byte[] Make(string fault, byte[] reference)
    {
        var weights = AdapterWeights.FromBytes(reference);
        var tensors = weights.Tensors.ToList();
        var first = tensors[0];
        // A small honest step away from the reference, so only the fault differs from a real update.
        AdapterWeights Nudged(Func<int, float, float>? change = null) => new(tensors.Select((t, k) =>
            new AdapterTensor(t.Name, t.Shape, [.. t.Values.Select((v, i) => k == 0 && change is not null ? change(i, v) : v + 1e-4f)])));
        switch (fault)
        {
            case UpdateFault.NonFinite:
                return Nudged((i, v) => i == first.Values.Length / 2 ? float.NaN : v).ToBytes();
            case UpdateFault.Keys:
                return new AdapterWeights(tensors.Select((t, k) => k == 0 ? new AdapterTensor(t.Name + ".evil", t.Shape, t.Values) : t)).ToBytes();
            case UpdateFault.Shape:
                var shape = first.Shape.Length == 2 && first.Shape[0] != first.Shape[1] ? new[] { first.Shape[1], first.Shape[0] } : [first.Values.Length];
                return new AdapterWeights(tensors.Select((t, k) => k == 0 ? new AdapterTensor(t.Name, shape, t.Values) : t)).ToBytes();
            case UpdateFault.DType:
                var halves = tensors.ToDictionary(t => t.Name, t => t.ToTensor().to(ScalarType.Float16), StringComparer.Ordinal);
                try { return SafeTensors.ToBytes(halves); }
                finally { foreach (var t in halves.Values) t.Dispose(); }
            case UpdateFault.Oversized:
                // Well-formed, finite, and every honest key: only an extra 1 MiB tensor too many.
                var padding = new AdapterTensor("padding", [256 * 1024], ImmutableArray.Create(new float[256 * 1024]));
                return new AdapterWeights(tensors.Append(padding)).ToBytes();
            case UpdateFault.Norm:
                return new AdapterWeights(tensors.Select(t => new AdapterTensor(t.Name, t.Shape, [.. t.Values.Select(v => v * 1000 + 1)]))).ToBytes();
            case UpdateFault.Malformed:
                var honest = Nudged().ToBytes();
                return honest[..(honest.Length * 2 / 3)];
            case UpdateFault.SampleCount:
                return Nudged().ToBytes();
            default:
                throw new ArgumentException($"No hostile update for fault '{fault}'.", nameof(fault));
        }
    }
}

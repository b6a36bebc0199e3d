using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Protocol;

namespace FedCoLLM.Actors.Rounds;

/// <summary>One unit of TorchSharp work: a pure function of its job definition, inputs (content addresses) and seed,
/// so re-running it after a crash yields the same output bytes.</summary>
public sealed record StepRequest(
    string JobId,
    int Round,
    RoundPhase Phase,
    IReadOnlyList<BlobRef> Inputs,
    long Seed,
    string? ClientId = null,
    IReadOnlyList<long>? SampleCounts = null) : IWireMessage
{
    /// <summary>What the step computes: a name from <c>Strategies/Operations.cs</c> (or <see cref="RoundState.InitializeOperation"/>).</summary>
    public string Operation { get; init; } = "";
    /// <summary>The job definition the step obeys, by content address; the runner fetches and verifies it.</summary>
    public BlobRef? Spec { get; init; }
    /// <summary>For a secure-aggregation step (<see cref="SecAggOperations"/>): attempt, step and whose messages the inputs hold.</summary>
    public SecAggStepSpec? SecAgg { get; init; }

    public override string ToString() =>
        $"{JobId} round {Round} {Phase}{(ClientId is null ? "" : " " + ClientId)} [{string.Join(", ", Inputs)}]";
}

/// <summary>What a step produced: output blobs (already in the local store) and scalar metrics.</summary>
public sealed record StepResult(IReadOnlyList<BlobRef> Outputs, IReadOnlyDictionary<string, double> Metrics, long SampleCount = 0) : IWireMessage;

/// <summary>Per-step seeds derived from the job seed by a stable hash (never string.GetHashCode, which is
/// randomised per process), so every process computes the same seed for the same step: the text is formatted with the
/// invariant culture (a culture's minus sign would change it) and the hash read little-endian on every platform.</summary>
public static class StepSeeds
{
    public static long For(long jobSeed, int round, RoundPhase phase, string? clientId = null)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{jobSeed}/{round}/{phase}/{clientId}");
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return BinaryPrimitives.ReadInt64LittleEndian(hash) & long.MaxValue;
    }
}

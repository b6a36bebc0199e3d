using System.Collections.Concurrent;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Actors.Simulation;

/// <summary>The sizes a simulated job's blobs have: the two adapters (float32 parameters) and each teacher-logits file.</summary>
public sealed record SimulatedSizes(long SlmParameters, long LlmParameters, long TeacherLogitsBytes)
{
    /// <summary>The built-in job (jobs/wordnet.conf): LoRA r = 8 on c_attn, c_fc and c_proj of the 4-layer d = 64 SLM
    /// (32 768 parameters; its file is 134 976 bytes, docs/results.md) and of the 6-layer d = 256 LLM (196 608), and top-64
    /// teacher logits (int32 id + float32 logit) over the 2 000-question public set at about 4 answer positions each.</summary>
    public static SimulatedSizes BuiltInJob { get; } = new(32_768, 196_608, 2_000L * 4 * 64 * 8);

    /// <summary>Adapters of about <paramref name="bytes"/> on both sides (the scale bench's 32 KB) and logits of the same size.</summary>
    public static SimulatedSizes Uniform(long bytes) => new(SimulatedAdapter.ParametersForBytes(bytes), SimulatedAdapter.ParametersForBytes(bytes), bytes);
}

/// <summary>One call of the runner: which step, and when it started and ended (UTC, so it lines up with journaled events).</summary>
public sealed record StepSpan(string Operation, RoundPhase Phase, int Round, string? ClientId, DateTimeOffset Started, DateTimeOffset Ended);

/// <summary>
/// The step runner of a simulated federation: every step of the FedCoLLM plan answers at once (or after
/// <paramref name="clientCompute"/> / <paramref name="serverCompute"/>, spent waiting on the worker's thread) with outputs of the configured sizes, derived from the step's seed and inputs, so
/// reruns give the same bytes. It reads every input from the store (verifying its hash) and writes every output there,
/// exactly as <see cref="LearningStepRunner"/> does, so the blob store's cost is measured, not skipped. A real
/// component of the `bench round --simulated` and `bench scale` commands, not a test double: the actors, journal, blob
/// store and transfers around it are the production ones.
/// </summary>
public sealed class SimulatedStepRunner(IBlobStore store, SimulatedSizes sizes, TimeSpan clientCompute = default, TimeSpan serverCompute = default) : IStepRunner
{
    /// <summary>The n_k every simulated client reports (FedAvg weights are then uniform).</summary>
    public const long SampleCount = 100;

    readonly ConcurrentQueue<StepSpan> spans = new();

    /// <summary>Simulated steps touch no TorchSharp: they need not queue on the process's one gate, so K clients in this
    /// process compute side by side as K client machines would.</summary>
    public bool NeedsTorchGate => false;

    /// <summary>Every step run so far, in the order they finished.</summary>
    public IReadOnlyCollection<StepSpan> Spans => spans;

    public StepResult Run(StepRequest request, string? dataPath, IProgress<StepProgress> progress, CancellationToken cancellation)
    {
        var started = DateTimeOffset.UtcNow;
        var inputs = request.Inputs.Select(store.Read).ToArray();
        var compute = request.Phase == RoundPhase.ClientsTraining ? clientCompute : serverCompute;
        if (compute > TimeSpan.Zero) cancellation.WaitHandle.WaitOne(compute);
        cancellation.ThrowIfCancellationRequested();
        byte[] Derived(int input) => SimulatedAdapter.Perturb(inputs[input], request.Seed);
        byte[][] outputs = request.Operation switch
        {
            RoundState.InitializeOperation => [SimulatedAdapter.Create(sizes.SlmParameters, request.Seed), SimulatedAdapter.Create(sizes.LlmParameters, request.Seed + 1)],
            Operations.TrainSlm => [Derived(0)],
            // The average itself is FedCoLLM.Learning's (not simulated here); its stand-in reads all K updates and keeps the first's layout.
            Operations.FedAvg => [Derived(0)],
            Operations.LlmTeacherLogits or Operations.SlmTeacherLogits => [Logits(request)],
            Operations.DistillSlm or Operations.DistillLlm => [Derived(0)],
            Operations.Evaluate => [],
            _ => throw new StepRefusedException($"{request}: operation \"{request.Operation}\" has no simulated stand-in; the simulation runs the FedCoLLM and FedAvg plans."),
        };
        long samples = request.Operation == Operations.TrainSlm ? SampleCount : 0;
        var refs = outputs.Select(o => store.Put(o)).ToArray();
        var metrics = request.Operation switch
        {
            Operations.TrainSlm => new Dictionary<string, double> { ["train_loss"] = 1.0 / (1 + request.Round) },
            Operations.Evaluate or RoundState.InitializeOperation => new Dictionary<string, double> { ["slm/acc/simulated"] = 0.25, ["llm/acc/simulated"] = 0.25 },
            _ => new Dictionary<string, double>(),
        };
        spans.Enqueue(new StepSpan(request.Operation, request.Phase, request.Round, request.ClientId, started, DateTimeOffset.UtcNow));
        return new StepResult(refs, metrics, samples);
    }

    /// <summary>Bytes standing in for a teacher's top-k logits: a seeded pseudo-random stream (their content is never read).</summary>
    byte[] Logits(StepRequest request)
    {
        var output = new byte[sizes.TeacherLogitsBytes];
        new Random(unchecked((int)(request.Seed ^ (request.Seed >> 32)))).NextBytes(output);
        return output;
    }
}

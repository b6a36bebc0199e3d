using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Cli.Experiment;

/// <summary>One node, many jobs: routes each step to the runner of its job (every job has its own server data —
/// evaluation sets, the pooled set of the Centralized reference), while all share one model cache.</summary>
public sealed class JobStepRunner(IReadOnlyDictionary<string, IStepRunner> runners) : IStepRunner
{
    public StepResult Run(StepRequest request, string? dataPath, IProgress<StepProgress> progress, CancellationToken cancellation) =>
        runners.TryGetValue(request.JobId, out var runner)
            ? runner.Run(request, dataPath, progress, cancellation)
            : throw new InvalidOperationException($"{request}: job {request.JobId} is not part of this experiment ({string.Join(", ", runners.Keys)}).");
}

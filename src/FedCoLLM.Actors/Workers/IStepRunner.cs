using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Workers;

/// <summary>Runs one step's TorchSharp work: reads the input blobs from the node's store, writes the outputs
/// there, returns their refs. Implementations hold no actor state and may block (workers call them through
/// <see cref="TorchGate"/> on a dedicated thread).</summary>
public interface IStepRunner
{
    /// <param name="dataPath">The client's private training file for a ClientsTraining step; null otherwise.</param>
    StepResult Run(StepRequest request, string? dataPath, IProgress<StepProgress> progress, CancellationToken cancellation);

    /// <summary>Whether the steps use libtorch's process-wide state and so queue on <see cref="TorchGate"/> (every real
    /// runner). A runner that never touches TorchSharp (the simulation's) runs its steps on the thread pool, as separate
    /// client machines would, instead of one at a time.</summary>
    bool NeedsTorchGate => true;
}

public sealed record StepProgress(int Step, int TotalSteps, double Loss);

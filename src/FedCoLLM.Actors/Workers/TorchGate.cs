namespace FedCoLLM.Actors.Workers;

/// <summary>
/// libtorch's generator and thread count are process-wide, so two TorchSharp jobs running at once in one
/// process would perturb each other's dropout and break bit-reproducibility. Every training worker in the
/// process (all roles, in the single-process mode) runs its steps through this one gate.
/// </summary>
public static class TorchGate
{
    static readonly SemaphoreSlim Gate = new(1, 1);

    public static async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellation)
    {
        Telemetry.FederationMetrics.TorchQueue(+1);
        try
        {
            await Gate.WaitAsync(cancellation).ConfigureAwait(false);
        }
        finally
        {
            Telemetry.FederationMetrics.TorchQueue(-1);
        }
        try
        {
            return await Task.Factory.StartNew(work, cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        finally
        {
            Gate.Release();
        }
    }
}

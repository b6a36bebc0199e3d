namespace FedCoLLM.Learning.Training;

/// <summary>Reported after every optimizer step.</summary>
public sealed record TrainingProgress(string Phase, int Step, int TotalSteps, int Epoch, double Loss, double LearningRate);

/// <summary>What a finished training phase did. Losses are per optimizer step (mean over its micro-batches).</summary>
public sealed record TrainingReport(string Phase, int Steps, int Examples, IReadOnlyList<double> StepLosses, TimeSpan Elapsed)
{
    public double FirstLoss => StepLosses.Count > 0 ? StepLosses[0] : double.NaN;
    public double FinalLoss => StepLosses.Count > 0 ? StepLosses[^1] : double.NaN;
    /// <summary>Mean loss over the last tenth of the steps (at least one): less noisy than the final step.</summary>
    public double TailLoss => StepLosses.Count == 0 ? double.NaN
        : StepLosses.Skip(StepLosses.Count - Math.Max(1, StepLosses.Count / 10)).Average();
}

/// <summary>Calls back on the reporting (training) thread, in step order; <see cref="Progress{T}"/> would post
/// to the thread pool, out of order and after the step it reports.</summary>
public sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

namespace FedCoLLM.Actors.Workers;

/// <summary>How often a failed step is retried and how long to wait between tries (exponential backoff).</summary>
public sealed record RetryPolicy(int MaxAttempts = 5, double BaseDelaySeconds = 1, double MaxDelaySeconds = 30)
{
    public TimeSpan DelayAfter(int failedAttempts) =>
        TimeSpan.FromSeconds(Math.Min(MaxDelaySeconds, BaseDelaySeconds * Math.Pow(2, Math.Max(0, failedAttempts - 1))));
}

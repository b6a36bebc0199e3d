namespace FedCoLLM.Cli.Bench;

/// <summary>Summary statistics the benchmarks report.</summary>
static class Statistics
{
    /// <summary>The middle value; the mean of the two middle values for an even count.</summary>
    public static double Median(IReadOnlyCollection<double> xs)
    {
        var sorted = xs.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

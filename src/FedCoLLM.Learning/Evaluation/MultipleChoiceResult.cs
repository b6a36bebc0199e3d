namespace FedCoLLM.Learning.Evaluation;

/// <summary>Accuracy on a multiple-choice set, with lm-evaluation-harness's two metrics.</summary>
public sealed record MultipleChoiceResult(int Total, int Correct, int CorrectNormalized)
{
    /// <summary>acc: the choice with the highest total log-likelihood is right.</summary>
    public double Accuracy => Total == 0 ? double.NaN : (double)Correct / Total;
    /// <summary>acc_norm: the same after dividing each log-likelihood by the choice's length in characters.</summary>
    public double AccuracyNormalized => Total == 0 ? double.NaN : (double)CorrectNormalized / Total;

    public (double Low, double High) AccuracyInterval => Wilson95(Correct, Total);
    public (double Low, double High) AccuracyNormalizedInterval => Wilson95(CorrectNormalized, Total);

    /// <summary>Wilson score interval: honest at small n and near 0 or 1, unlike the normal approximation.</summary>
    public static (double Low, double High) Wilson95(int successes, int n)
    {
        if (n == 0) return (double.NaN, double.NaN);
        const double z = 1.959963984540054;
        double p = (double)successes / n, z2n = z * z / n;
        double centre = (p + z2n / 2) / (1 + z2n);
        double half = z * Math.Sqrt(p * (1 - p) / n + z2n / (4.0 * n)) / (1 + z2n);
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }
}

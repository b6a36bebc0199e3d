using System.Globalization;

namespace FedCoLLM.Cli.Experiment;

/// <summary>One cell of the tuning grid: a client learning rate and a number of local epochs.</summary>
public sealed record TuningCell(double LearningRate, int Epochs)
{
    public string LearningRateText => LearningRate.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The cell in job ids and file names, e.g. <c>lr0.001-e2</c> (job ids allow letters, digits, '.', '-', '_').</summary>
    public string Slug => $"lr{LearningRateText}-e{Epochs}";

    /// <summary>The job-file lines that give a method this cell: the same two keys for every method, so every method is
    /// tuned the same way (for Centralized, <c>training.client</c> is the SLM trained on the pooled data).</summary>
    public IReadOnlyList<string> JobLines =>
    [
        $"job.training.client.learning-rate = {LearningRateText}",
        $"job.training.client.epochs = {Epochs}",
    ];
}

/// <summary>The grid every method gets: learning rates × epochs, in ascending order (the tie-break order).</summary>
public sealed record TuningGrid(IReadOnlyList<double> LearningRates, IReadOnlyList<int> Epochs)
{
    public const string DefaultLearningRates = "5e-4,1e-3,2e-3,5e-3";
    public const string DefaultEpochs = "1,2";

    public IReadOnlyList<TuningCell> Cells => LearningRates.SelectMany(lr => Epochs.Select(e => new TuningCell(lr, e))).ToArray();

    /// <summary>Parses the comma-separated option values; refuses empty, non-positive or repeated values, naming the option.</summary>
    public static TuningGrid Parse(string learningRates, string epochs)
    {
        static IEnumerable<string> Items(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var lrs = Items(learningRates).Select(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && v > 0
            ? v : throw new ArgumentException($"--tune-lr: \"{t}\" is not a positive number; give a comma-separated list such as {DefaultLearningRates}.")).ToArray();
        var eps = Items(epochs).Select(t => int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 1
            ? v : throw new ArgumentException($"--tune-epochs: \"{t}\" is not a whole number ≥ 1; give a comma-separated list such as {DefaultEpochs}.")).ToArray();
        if (lrs.Length == 0) throw new ArgumentException($"--tune-lr: empty; give at least one learning rate, e.g. {DefaultLearningRates}.");
        if (eps.Length == 0) throw new ArgumentException($"--tune-epochs: empty; give at least one epoch count, e.g. {DefaultEpochs}.");
        if (lrs.Distinct().Count() != lrs.Length) throw new ArgumentException($"--tune-lr {learningRates}: a learning rate is listed twice; list each once.");
        if (eps.Distinct().Count() != eps.Length) throw new ArgumentException($"--tune-epochs {epochs}: an epoch count is listed twice; list each once.");
        return new TuningGrid(lrs.Order().ToArray(), eps.Order().ToArray());
    }

    /// <summary>
    /// The cell with the best score (mean SLM validation accuracy); ties go to the smaller learning rate, then to fewer
    /// epochs. Cells without a finite score (a job that did not finish) cannot be chosen. The answer depends only on the
    /// set of (cell, score) pairs, never on their order. Scores closer than 1e-12 are ties: the same number of right
    /// answers may reach the mean through different float sums.
    /// </summary>
    public static TuningCell? Choose(IEnumerable<(TuningCell Cell, double Score)> scored)
    {
        const double Tie = 1e-12;
        var finite = scored.Where(s => double.IsFinite(s.Score)).ToArray();
        if (finite.Length == 0) return null;
        double best = finite.Max(s => s.Score);
        return finite.Where(s => s.Score >= best - Tie).Select(s => s.Cell)
            .OrderBy(c => c.LearningRate).ThenBy(c => c.Epochs).First();
    }
}

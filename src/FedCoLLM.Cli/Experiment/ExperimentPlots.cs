namespace FedCoLLM.Cli.Experiment;

/// <summary>The experiment's PNG plots (ScottPlot 5): accuracy per round per method, and the distillation losses per round.</summary>
public static class ExperimentPlots
{
    public static void Accuracy(string path, string title, IReadOnlyList<(Method Method, double[] Rounds, double[] Accuracy)> curves)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (method, rounds, accuracy) in curves)
        {
            var line = plot.Add.ScatterLine(rounds, accuracy);
            line.LegendText = method.ToString();
            line.MarkerSize = 6;
        }
        // Every method starts from the same pre-trained model, so round 0 of any curve is the zero-shot reference.
        var start = curves.FirstOrDefault(c => c.Rounds.Length > 0 && c.Rounds[0] == 0);
        if (start.Accuracy is not null)
        {
            var zeroShot = plot.Add.HorizontalLine(start.Accuracy[0]);
            zeroShot.LegendText = "Zero-shot";
            zeroShot.LinePattern = ScottPlot.LinePattern.Dashed;
            zeroShot.Color = ScottPlot.Colors.Gray;
        }
        WholeRounds(plot);
        plot.Title(title);
        plot.XLabel("round (0 = pre-trained, zero-shot)");
        plot.YLabel("accuracy, % (mean over seeds)");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 800, 450);
    }

    public static void Losses(string path, IReadOnlyList<(string Name, double[] Rounds, double[] Loss)> series)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (name, rounds, loss) in series)
        {
            var line = plot.Add.ScatterLine(rounds, loss);
            line.LegendText = name;
            line.MarkerSize = 6;
        }
        WholeRounds(plot);
        plot.Title("Server-side losses per round (tail of the epoch, mean over seeds)");
        plot.XLabel("round");
        plot.YLabel("loss (CE + λ·KL for distillation)");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 800, 450);
    }

    /// <summary>Rounds are integers: one tick per round, none in between.</summary>
    static void WholeRounds(ScottPlot.Plot plot) =>
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
}

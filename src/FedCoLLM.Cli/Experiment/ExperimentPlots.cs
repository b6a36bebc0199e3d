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
        plot.Title(title);
        plot.XLabel("round (0 = pre-trained, zero-shot)");
        plot.YLabel("accuracy, % (mean over seeds)");
        plot.ShowLegend();
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
        plot.Title("Server-side losses per round (tail of the epoch, mean over seeds)");
        plot.XLabel("round");
        plot.YLabel("loss (CE + λ·KL for distillation)");
        plot.ShowLegend();
        plot.SavePng(path, 800, 450);
    }
}

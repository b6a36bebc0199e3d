using System.Globalization;
using System.Text;

namespace FedCoLLM.Benchmarks.ModelCards;

/// <summary>Zero-shot accuracy of a model on one split of one client domain.</summary>
public sealed record DomainAccuracy(string Domain, string Split, int Questions, double Accuracy, double Low, double High, double AccuracyNormalized);

/// <summary>Everything a built-in model's card states: how it was made and how well it does.</summary>
public sealed record ModelCardFacts(
    string Name,
    string Architecture,
    int Context,
    string Corpus,
    int VocabSize,
    int BatchSize,
    long Parameters,
    string Command,
    long Seed,
    int Steps,
    long TokensSeen,
    double Epochs,
    double WallMinutes,
    int Threads,
    string Machine,
    string Date,
    IReadOnlyList<double> StepLosses,
    string Prompt,
    IReadOnlyList<DomainAccuracy> Accuracy)
{
    /// <summary>Another model scored on the same items (the built-in LLM's card compares it with the SLM).</summary>
    public ModelComparison? Comparison { get; init; }
}

public sealed record ModelComparison(string Name, IReadOnlyList<DomainAccuracy> Accuracy);

/// <summary>Writes README.md (the model card) and loss.png next to a built-in model.</summary>
public static class ModelCard
{
    public const string LossPlotFile = "loss.png";

    public static void Write(string directory, ModelCardFacts f)
    {
        WriteLossPlot(Path.Combine(directory, LossPlotFile), f);
        var c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(c, $"# {f.Name}");
        md.AppendLine();
        md.AppendLine(c, $"{f.Architecture}, {f.Parameters:N0} parameters, pre-trained from scratch on `{f.Corpus}`");
        md.AppendLine(c, $"with the benchmark's byte-level BPE tokenizer ({f.VocabSize} tokens). Hugging Face layout:");
        md.AppendLine("`config.json`, `model.safetensors`, `vocab.json`, `merges.txt`; `training.json` holds every step's loss.");
        md.AppendLine();
        md.AppendLine("## How it was made");
        md.AppendLine();
        md.AppendLine("```bash");
        md.AppendLine(f.Command);
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine("| | |");
        md.AppendLine("|---|---|");
        md.AppendLine(c, $"| seed | {f.Seed} |");
        md.AppendLine(c, $"| optimizer steps | {f.Steps:N0} (batch {f.BatchSize} × {f.Context} tokens) |");
        md.AppendLine(c, $"| tokens seen | {f.TokensSeen:N0} ({f.Epochs:F2} epochs) |");
        md.AppendLine(c, $"| wall time | {f.WallMinutes:F1} min on {f.Machine}, {f.Threads} threads |");
        md.AppendLine(c, $"| date | {f.Date} |");
        md.AppendLine(c, $"| loss (first step → mean of last 10 %) | {f.StepLosses[0]:F3} → {Tail(f.StepLosses):F3} |");
        md.AppendLine();
        md.AppendLine(c, $"![training loss]({LossPlotFile})");
        md.AppendLine();
        md.AppendLine("## Zero-shot accuracy on the client data");
        md.AppendLine();
        md.AppendLine("Multiple choice among 4 answers (chance = 25 %), scored by log-likelihood as lm-evaluation-harness does");
        md.AppendLine(c, $"(`fedcollm eval`) with the benchmark's prompt {f.Prompt}; 95 % Wilson intervals.");
        md.AppendLine("Validation was used for choices; test is reported, never tuned on.");
        md.AppendLine();
        md.AppendLine("| domain | split | questions | acc | 95 % CI | acc_norm |");
        md.AppendLine("|---|---|---:|---:|---|---:|");
        foreach (var a in f.Accuracy)
            md.AppendLine(c, $"| {a.Domain} | {a.Split} | {a.Questions} | {100 * a.Accuracy:F1} % | [{100 * a.Low:F1}, {100 * a.High:F1}] | {100 * a.AccuracyNormalized:F1} % |");
        foreach (var split in f.Accuracy.Select(a => a.Split).Distinct())
        {
            var rows = f.Accuracy.Where(a => a.Split == split).ToList();
            md.AppendLine(c, $"| **mean** | {split} | {rows.Sum(r => r.Questions)} | {100 * rows.Average(r => r.Accuracy):F1} % | | {100 * rows.Average(r => r.AccuracyNormalized):F1} % |");
        }
        if (f.Comparison is { } other) WriteComparison(md, f, other);
        File.WriteAllText(Path.Combine(directory, "README.md"), md.ToString());
    }

    /// <summary>Accuracy over all items of a split against the other model's, with the two-proportion z statistic
    /// (unpaired, so conservative for the same items).</summary>
    static void WriteComparison(StringBuilder md, ModelCardFacts f, ModelComparison other)
    {
        var c = CultureInfo.InvariantCulture;
        md.AppendLine();
        md.AppendLine(c, $"## Against {other.Name}");
        md.AppendLine();
        md.AppendLine(c, $"| split | questions | {f.Name} acc | {other.Name} acc | difference (points) | z |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var split in f.Accuracy.Select(a => a.Split).Distinct())
        {
            var mine = f.Accuracy.Where(a => a.Split == split).ToList();
            var theirs = other.Accuracy.Where(a => a.Split == split).ToList();
            int n = mine.Sum(a => a.Questions), m = theirs.Sum(a => a.Questions);
            if (n == 0 || m == 0) continue;
            double p1 = mine.Sum(a => a.Accuracy * a.Questions) / n, p2 = theirs.Sum(a => a.Accuracy * a.Questions) / m;
            double pooled = (p1 * n + p2 * m) / (n + m);
            double z = (p1 - p2) / Math.Sqrt(pooled * (1 - pooled) * (1.0 / n + 1.0 / m));
            md.AppendLine(c, $"| {split} | {n} | {100 * p1:F1} % | {100 * p2:F1} % | {100 * (p1 - p2):+0.0;-0.0} | {z:F2} |");
        }
        md.AppendLine();
        md.AppendLine("|z| > 1.96 is a difference at the 5 % level, > 2.58 at the 1 % level.");
    }

    static double Tail(IReadOnlyList<double> losses) =>
        losses.Skip(losses.Count - Math.Max(1, losses.Count / 10)).Average();

    static void WriteLossPlot(string path, ModelCardFacts f)
    {
        var plot = new ScottPlot.Plot();
        var xs = Enumerable.Range(1, f.StepLosses.Count).Select(i => (double)i).ToArray();
        var line = plot.Add.ScatterLine(xs, f.StepLosses.ToArray());
        line.LegendText = "per step";
        int window = Math.Max(1, f.StepLosses.Count / 50);
        var smooth = xs.Select((_, i) => f.StepLosses.Skip(Math.Max(0, i - window + 1)).Take(Math.Min(window, i + 1)).Average()).ToArray();
        var trend = plot.Add.ScatterLine(xs, smooth);
        trend.LegendText = $"mean of {window} steps";
        trend.LineWidth = 2;
        plot.Axes.SetLimitsY(0, Math.Min(f.StepLosses.Max(), 10) * 1.05);
        plot.Title($"{f.Name}: pre-training loss");
        plot.XLabel("optimizer step");
        plot.YLabel("cross-entropy (nats/token)");
        plot.ShowLegend();
        plot.SavePng(path, 800, 450);
    }
}

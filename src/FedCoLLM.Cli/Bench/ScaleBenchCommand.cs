using System.ComponentModel;
using System.Globalization;
using FedCoLLM.Actors.Simulation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Bench;

/// <summary>`fedcollm bench scale`: round time, idle memory per client, journal growth and recovery time at K clients in one
/// process and one journal (<see cref="ScaleBench"/>), with a plot of round time against K.</summary>
public sealed class ScaleBenchCommand : AsyncCommand<ScaleBenchCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--clients <LIST>")] [DefaultValue("10,100,1000")] [Description("Comma-separated client counts K (e.g. 10,100,1000,10000).")]
        public string Clients { get; init; } = "10,100,1000";
        [CommandOption("--rounds <N>")] [DefaultValue(3)] [Description("Rounds per K.")]
        public int Rounds { get; init; } = 3;
        [CommandOption("--adapter-bytes <B>")] [DefaultValue(32768L)] [Description("Size of each simulated adapter (default 32 KB).")]
        public long AdapterBytes { get; init; } = 32768;
        [CommandOption("--postgres")] [Description("Journal to a fresh database on FEDCOLLM_POSTGRES instead of SQLite.")]
        public bool Postgres { get; init; }
        [CommandOption("--timeout-minutes <M>")] [DefaultValue(20.0)] [Description("Give up on one K after this long and report how far it got.")]
        public double TimeoutMinutes { get; init; } = 20;
        [CommandOption("--out <DIR>")] [DefaultValue("runs/bench-scale")] [Description("Scratch directory (journals, blob stores).")]
        public string Out { get; init; } = "runs/bench-scale";
        [CommandOption("--json <FILE>")] [Description("Also write the rows as JSON.")]
        public string? Json { get; init; }
        [CommandOption("--plot <FILE>")] [Description("Also plot median round time against K (PNG).")]
        public string? Plot { get; init; }

        public override ValidationResult Validate()
        {
            foreach (var part in Clients.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (!int.TryParse(part, CultureInfo.InvariantCulture, out var k) || k < 1)
                    return ValidationResult.Error($"--clients {Clients}: \"{part}\" is not a positive whole number.");
            return Rounds < 1 ? ValidationResult.Error($"--rounds {Rounds}: at least 1.")
                : AdapterBytes < 64 ? ValidationResult.Error($"--adapter-bytes {AdapterBytes}: at least 64.")
                : ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var counts = s.Clients.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        var rows = await ScaleBench.RunAsync(new ScaleBench.Settings(counts, s.Rounds, Path.GetFullPath(s.Out))
        {
            AdapterBytes = s.AdapterBytes,
            Journal = BenchJournal.From(s.Postgres),
            TimeoutPerCount = TimeSpan.FromMinutes(s.TimeoutMinutes),
        }, line => AnsiConsole.WriteLine(line));
        foreach (var r in rows)
            AnsiConsole.WriteLine($"K = {r.Clients,6}: rounds {string.Join(", ", r.RoundSeconds.Select(x => x.ToString("F2", CultureInfo.InvariantCulture)))} s; " +
                $"recovery after {r.RecoveryWithSnapshots.Count} rounds {r.RecoveryWithSnapshots.LastOrDefault()?.Seconds * 1000:F0} ms with snapshots, " +
                $"{r.RecoveryWithoutSnapshots.LastOrDefault()?.Seconds * 1000:F0} ms without; exactly once: {r.ExactlyOnce}");
        // A K that committed no round has no round time (null), not 0.
        var roundSeconds = rows.ToDictionary(r => r.Clients.ToString(CultureInfo.InvariantCulture), r => r.RoundsCommitted > 0 ? r.MedianRoundSeconds : (double?)null);
        if (s.Json is not null) BenchJson.Write(s.Json, context, new { round_seconds = roundSeconds, rounds = s.Rounds, adapter_bytes = s.AdapterBytes, rows });
        if (s.Plot is not null) Plot(s.Plot, rows);
        return rows.All(r => r.Finished) ? 0 : 1;
    }

    static void Plot(string path, IReadOnlyList<ScaleBench.Row> rows)
    {
        var plot = new ScottPlot.Plot();
        var done = rows.Where(r => r.RoundsCommitted > 0).ToArray();
        var line = plot.Add.ScatterLine(done.Select(r => Math.Log10(r.Clients)).ToArray(), done.Select(r => Math.Log10(Math.Max(1e-3, r.MedianRoundSeconds))).ToArray());
        line.MarkerSize = 8;
        line.LegendText = $"median round ({done.FirstOrDefault()?.Journal})";
        var goal = plot.Add.HorizontalLine(Math.Log10(60));
        goal.LegendText = "goal at 1,000 clients: 60 s";
        goal.LinePattern = ScottPlot.LinePattern.Dashed;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            done.Select(r => (Math.Log10(r.Clients), r.Clients.ToString("N0", CultureInfo.InvariantCulture))).Select(t => new ScottPlot.Tick(t.Item1, t.Item2)).ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            new[] { 0.1, 1, 10, 60, 100, 1000 }.Select(v => new ScottPlot.Tick(Math.Log10(v), v.ToString("G", CultureInfo.InvariantCulture) + " s")).ToArray());
        plot.Title("fedcollm bench scale: round time against clients (log-log)");
        plot.XLabel("clients K");
        plot.YLabel("median round time");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 800, 450);
    }
}

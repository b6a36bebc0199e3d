using FedCoLLM.Actors.Rounds;
using Spectre.Console;

namespace FedCoLLM.Cli.Federation;

/// <summary>SLM and LLM accuracy per client domain per round, as a console table.</summary>
public static class ResultsTable
{
    public static void Print(RoundState state)
    {
        var table = new Table().Title("Accuracy (acc, %) on each client's held-out test set; round 0 = pre-trained, zero-shot");
        table.AddColumn("model").AddColumn("round");
        foreach (var d in state.Job!.ClientIds) table.AddColumn(Markup.Escape(d));
        table.AddColumn("mean");
        foreach (var (model, round, perDomain, mean) in RunReport.AccuracyRows(state))
            table.AddRow([model, $"{round}", .. perDomain.Select(RunReport.Percent), RunReport.Percent(mean)]);
        AnsiConsole.Write(table);
    }

    public static void PrintRound(RoundState state, CommittedRound round)
    {
        var parts = new[] { "slm", "llm" }.Select(m =>
        {
            var accs = state.Job!.ClientIds.Select(d => round.Metrics.TryGetValue($"{m}/acc/{d}", out var v) ? v : double.NaN).Where(double.IsFinite).ToArray();
            return $"{m.ToUpperInvariant()} mean acc {(accs.Length == 0 ? "–" : $"{100 * accs.Average():F1} %")}";
        });
        Console.WriteLine($"           round {round.Round} committed: {string.Join(", ", parts)}");
    }
}

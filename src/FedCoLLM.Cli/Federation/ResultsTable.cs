using FedCoLLM.Actors.Rounds;
using Spectre.Console;

namespace FedCoLLM.Cli.Federation;

/// <summary>SLM and LLM accuracy per evaluation set per round, as a console table.</summary>
public static class ResultsTable
{
    public static void Print(RoundState state)
    {
        var table = new Table().Title("Accuracy (acc, %) on each evaluation set; round 0 = pre-trained, zero-shot");
        table.AddColumn("model").AddColumn("round");
        foreach (var set in RunReport.EvaluationSets(state)) table.AddColumn(Markup.Escape(set));
        table.AddColumn("mean");
        foreach (var (model, round, perSet, mean) in RunReport.AccuracyRows(state))
            table.AddRow([model, $"{round}", .. perSet.Select(RunReport.Percent), RunReport.Percent(mean)]);
        AnsiConsole.Write(table);
    }

    public static void PrintRound(RoundState state, CommittedRound round)
    {
        var sets = RunReport.EvaluationSets(state);
        var parts = new[] { "slm", "llm" }.Select(m =>
        {
            var accs = sets.Select(d => round.Metrics.TryGetValue($"{m}/acc/{d}", out var v) ? v : double.NaN).Where(double.IsFinite).ToArray();
            return $"{m.ToUpperInvariant()} mean acc {(accs.Length == 0 ? "–" : $"{100 * accs.Average():F1} %")}";
        });
        Console.WriteLine($"           round {round.Round} committed: {string.Join(", ", parts)}");
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FedCoLLM.Cli.Experiment;

/// <summary>OUT/tuning.json and OUT/tuning.md: every (method, cell) validation score of the tuning stage and each
/// method's choice, computed from the journal's finished tuning jobs only (a resumed tuning reports what it holds).</summary>
public static class TuningReport
{
    public const string Rule = "the highest mean SLM accuracy over the client domains on the validation split (one seed); ties go to the smaller learning rate, then to fewer epochs";

    public static void Write(string outDir, TuningPlan plan, IReadOnlyList<TuningResult> results,
        IReadOnlyDictionary<Method, TuningCell> choices, TimeSpan wall)
    {
        File.WriteAllText(Path.Combine(outDir, "tuning.md"), Markdown(plan, results, choices, wall));
        File.WriteAllText(Path.Combine(outDir, "tuning.json"), Json(plan, results, choices, wall).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    static string Pct(double x) => double.IsFinite(x) ? (100 * x).ToString("F1", CultureInfo.InvariantCulture) : "–";

    public static string Markdown(TuningPlan plan, IReadOnlyList<TuningResult> results, IReadOnlyDictionary<Method, TuningCell> choices, TimeSpan wall)
    {
        var md = new StringBuilder();
        var cells = plan.Grid.Cells;
        int finished = results.Count(r => double.IsFinite(r.Score));
        md.AppendLine("# Tuning on the validation split").AppendLine();
        md.AppendLine($"Every method gets the same {cells.Count}-cell grid: client learning rate ∈ {{{string.Join(", ", plan.Grid.LearningRates.Select(l => new TuningCell(l, 1).LearningRateText))}}} "
            + $"× local epochs ∈ {{{string.Join(", ", plan.Grid.Epochs)}}}, seed {TuningPlan.Seed}, scored on the **{TuningPlan.Split}** split only. "
            + $"Chosen per method: {Rule}. {finished}/{results.Count} method × cell runs finished; wall time of this invocation's tuning {wall.TotalMinutes:F1} min.").AppendLine();
        md.AppendLine("## Mean SLM validation accuracy over the client domains (%; **bold** = chosen)").AppendLine();
        md.AppendLine($"| lr | epochs | {string.Join(" | ", plan.Methods)} |");
        md.AppendLine($"|---:|---:|{string.Concat(plan.Methods.Select(_ => "---:|"))}");
        foreach (var cell in cells)
        {
            var row = plan.Methods.Select(m =>
            {
                var r = results.FirstOrDefault(x => x.Method == m && x.Cell == cell);
                var text = r is null ? "–" : Pct(r.Score);
                return choices.TryGetValue(m, out var c) && c == cell ? $"**{text}**" : text;
            });
            md.AppendLine($"| {cell.LearningRateText} | {cell.Epochs} | {string.Join(" | ", row)} |");
        }
        md.AppendLine().AppendLine("## Chosen settings (used by the test-split run)").AppendLine();
        md.AppendLine("| method | client lr | local epochs | validation accuracy (%) |").AppendLine("|---|---:|---:|---:|");
        foreach (var m in plan.Methods)
            md.AppendLine(choices.TryGetValue(m, out var c)
                ? $"| {m} | {c.LearningRateText} | {c.Epochs} | {Pct(results.First(r => r.Method == m && r.Cell == c).Score)} |"
                : $"| {m} | – | – | no cell finished |");
        md.AppendLine().AppendLine($"Job files: `tuning/jobs/` (ids `{TuningPlan.JobPrefix}<cell>-<method>-s{TuningPlan.Seed}`); they evaluate on validation files only (checked before any job runs).");
        return md.ToString();
    }

    static JsonObject Json(TuningPlan plan, IReadOnlyList<TuningResult> results, IReadOnlyDictionary<Method, TuningCell> choices, TimeSpan wall)
    {
        static JsonNode? Num(double x) => double.IsFinite(x) ? JsonValue.Create(x) : null;
        return new JsonObject
        {
            ["split"] = TuningPlan.Split,
            ["seed"] = TuningPlan.Seed,
            ["grid"] = new JsonObject
            {
                ["learning_rates"] = new JsonArray(plan.Grid.LearningRates.Select(l => (JsonNode)l).ToArray()),
                ["epochs"] = new JsonArray(plan.Grid.Epochs.Select(e => (JsonNode)e).ToArray()),
                ["cells"] = plan.Grid.Cells.Count,
            },
            ["rule"] = Rule,
            ["methods"] = new JsonArray(plan.Methods.Select(m => (JsonNode)ExperimentPlan.Slug(m)).ToArray()),
            ["wall_seconds_this_invocation"] = Math.Round(wall.TotalSeconds, 1),
            ["results"] = new JsonArray(results.Select(r => (JsonNode)new JsonObject
            {
                ["method"] = ExperimentPlan.Slug(r.Method),
                ["learning_rate"] = r.Cell.LearningRate,
                ["epochs"] = r.Cell.Epochs,
                ["slm_validation_accuracy"] = Num(r.Score),
                ["jobs"] = new JsonArray(r.JobIds.Select(j => (JsonNode)j).ToArray()),
            }).ToArray()),
            ["chosen"] = new JsonObject(plan.Methods.Where(choices.ContainsKey).Select(m => KeyValuePair.Create(ExperimentPlan.Slug(m), (JsonNode?)new JsonObject
            {
                ["learning_rate"] = choices[m].LearningRate,
                ["epochs"] = choices[m].Epochs,
                ["slm_validation_accuracy"] = Num(results.First(r => r.Method == m && r.Cell == choices[m]).Score),
            }))),
        };
    }
}

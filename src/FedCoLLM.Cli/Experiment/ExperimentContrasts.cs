using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Cli.Experiment;

/// <summary>
/// What each ablation measures, as paired differences: for one question ("what does SLM→LLM KD add to the LLM?") two
/// methods that differ in that one thing, and per seed the difference of their final-round accuracies (the domain
/// average and the public slice). Pairing by seed removes what the seeds share (the questions, the pre-trained pair), so a
/// causal sentence in docs/results.md can point at one row here. Only questions whose two methods both ran are listed.
/// </summary>
public static class ExperimentContrasts
{
    public sealed record Contrast(string Question, string Model, Method A, Method B, IReadOnlyDictionary<string, IReadOnlyList<double>> PerSeed)
    {
        public static double Mean(IReadOnlyList<double> xs) => xs.Count == 0 ? double.NaN : xs.Average();
        public static double Std(IReadOnlyList<double> xs) =>
            xs.Count < 2 ? 0 : Math.Sqrt(xs.Sum(x => (x - Mean(xs)) * (x - Mean(xs))) / (xs.Count - 1));
    }

    /// <summary>The questions, each as "A − B" for one model: A has the thing, B lacks it.</summary>
    static readonly (string Question, string Model, Method A, Method B)[] Questions =
    [
        ("the whole FedCoLLM round, against the pre-trained LLM", "llm", Method.FedCoLLM, Method.ZeroShot),
        ("SLM→LLM KD (λ·KL) on top of the public set's CE", "llm", Method.FedCoLLM, Method.FedCoLLMCeOnly),
        ("the public set's CE on top of SLM→LLM KD", "llm", Method.FedCoLLM, Method.FedCoLLMKdOnly),
        ("everything from the clients, against fine-tuning the LLM on the public set alone", "llm", Method.FedCoLLM, Method.LlmPublic),
        ("T² scaling of the KD term", "llm", Method.FedCoLLMT2, Method.FedCoLLM),
        ("federation against pooling all data in one place", "llm", Method.FedCoLLM, Method.Centralized),
        ("the whole FedCoLLM round, against the pre-trained SLM", "slm", Method.FedCoLLM, Method.ZeroShot),
        ("the server's distillation on top of FedAvg", "slm", Method.FedCoLLM, Method.FedAvg),
        ("LLM→SLM KD (λ·KL) on top of the public set's CE", "slm", Method.FedCoLLM, Method.FedCoLLMCeOnly),
        ("the public set's CE on top of LLM→SLM KD", "slm", Method.FedCoLLM, Method.FedCoLLMKdOnly),
        ("T² scaling of the KD term", "slm", Method.FedCoLLMT2, Method.FedCoLLM),
        ("FedAvg against each client training alone", "slm", Method.FedAvg, Method.Standalone),
        ("FedCoLLM against each client training alone", "slm", Method.FedCoLLM, Method.Standalone),
        ("federation against pooling all data in one place", "slm", Method.FedCoLLM, Method.Centralized),
    ];

    static readonly string[] Columns = ["average", "public"];

    public static IReadOnlyList<Contrast> Compute(ExperimentPlan plan, IReadOnlyList<(ExperimentJob Job, RoundState State, TimeSpan? Wall)> runs)
    {
        var contrasts = new List<Contrast>();
        var seeds = runs.Select(r => r.Job.Seed).Distinct().Order().ToArray();
        foreach (var (question, model, a, b) in Questions.Where(q => plan.Methods.Contains(q.A) && plan.Methods.Contains(q.B)))
        {
            // Standalone has no public-set score (each client's model is scored on its own domain only).
            var perSeed = new Dictionary<string, IReadOnlyList<double>>();
            foreach (var column in Columns)
            {
                var differences = new List<double>();
                foreach (var seed in seeds)
                {
                    var only = runs.Where(r => r.Job.Seed == seed).ToList();
                    if (Score(plan, only, a, model, column) is double x && Score(plan, only, b, model, column) is double y) differences.Add(x - y);
                }
                perSeed[column] = differences;
            }
            if (perSeed.Values.Any(d => d.Count > 0)) contrasts.Add(new Contrast(question, model, a, b, perSeed));
        }
        return contrasts;
    }

    /// <summary>One seed's final accuracy of a method: the mean over the client domains (only when every domain was
    /// scored), or the public slice.</summary>
    static double? Score(ExperimentPlan plan, IReadOnlyList<(ExperimentJob Job, RoundState State, TimeSpan? Wall)> seedRuns, Method method, string model, string column)
    {
        if (column != "average")
            return ExperimentReport.Values(seedRuns, method, model, column) is [var v] ? v : null;
        var domains = plan.Domains.SelectMany(d => ExperimentReport.Values(seedRuns, method, model, d)).ToArray();
        return domains.Length == plan.Domains.Count ? domains.Average() : null;
    }

    static string Points(IReadOnlyList<double> xs) => xs.Count == 0 ? "–"
        : xs.Count == 1 ? Signed(100 * xs[0])
        : $"{Signed(100 * Contrast.Mean(xs))} ± {(100 * Contrast.Std(xs)).ToString("F1", CultureInfo.InvariantCulture)}";

    static string Signed(double x) => (x >= 0 ? "+" : "−") + Math.Abs(x).ToString("F1", CultureInfo.InvariantCulture);

    public static void Markdown(StringBuilder md, IReadOnlyList<Contrast> contrasts)
    {
        if (contrasts.Count == 0) return;
        md.AppendLine().AppendLine("## What each ablation measures (A − B, accuracy points, paired by seed: mean ± std over seeds)").AppendLine();
        md.AppendLine("A and B differ in the one thing the question names; `seeds A > B` counts the seeds where A scored higher on the domain average.").AppendLine();
        md.AppendLine("| model | question | A | B | average | public | seeds A > B |").AppendLine("|---|---|---|---|---:|---:|---:|");
        foreach (var c in contrasts)
        {
            var average = c.PerSeed["average"];
            md.AppendLine($"| {c.Model.ToUpperInvariant()} | {c.Question} | {c.A} | {c.B} | {Points(average)} | {Points(c.PerSeed["public"])} | "
                + $"{average.Count(d => d > 0)}/{average.Count} |");
        }
    }

    public static JsonArray Json(IReadOnlyList<Contrast> contrasts) => new(contrasts.Select(c => (JsonNode)new JsonObject
    {
        ["model"] = c.Model,
        ["question"] = c.Question,
        ["a"] = ExperimentPlan.Slug(c.A),
        ["b"] = ExperimentPlan.Slug(c.B),
        ["difference"] = new JsonObject(c.PerSeed.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)new JsonObject
        {
            ["mean"] = kv.Value.Count == 0 ? null : Contrast.Mean(kv.Value),
            ["std"] = kv.Value.Count == 0 ? null : Contrast.Std(kv.Value),
            ["per_seed"] = new JsonArray(kv.Value.Select(x => (JsonNode)x).ToArray()),
        }))),
    }).ToArray());
}

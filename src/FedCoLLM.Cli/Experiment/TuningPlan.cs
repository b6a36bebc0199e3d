using System.Text.RegularExpressions;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Cli.Experiment;

/// <summary>What the tuning found for one method in one cell: its mean SLM validation accuracy over the client domains
/// (NaN while the cell's jobs have not all finished) and the jobs it comes from.</summary>
public sealed record TuningResult(Method Method, TuningCell Cell, double Score, IReadOnlyList<string> JobIds);

/// <summary>
/// The tuning stage of <c>fedcollm experiment --tune</c>: for every cell of one grid, the experiment's training methods
/// (all but Zero-shot, which trains nothing) run once, with seed 1, scored on the VALIDATION split only. Every method gets
/// the same cells and is chosen by the same rule (<see cref="TuningGrid.Choose"/>), so a method added to <see cref="Method"/>
/// is tuned like the others without a line here. Standalone is tuned as one method (its score averages its per-client
/// jobs), not per client. The jobs share the experiment's journal under the id prefix <see cref="JobPrefix"/>, so a rerun
/// skips every finished cell.
/// </summary>
public sealed record TuningPlan(TuningGrid Grid, IReadOnlyList<Method> Methods, IReadOnlyList<(TuningCell Cell, ExperimentPlan Plan)> Cells)
{
    public const string JobPrefix = "tune-";
    public const string Split = "validation";
    public const int Seed = 1;

    public IEnumerable<ExperimentJob> Jobs => Cells.SelectMany(c => c.Plan.Jobs);

    /// <param name="createPlan">Makes the experiment plan of one cell from (split, seeds, methods, variant): the command
    /// passes <see cref="ExperimentPlan.Create"/> with its own base job, data and caps, so tuning and the reported run
    /// differ only in the split, the seeds and the cell's lines.</param>
    /// <param name="tuningJobsDir">Where the cells' job files go (OUT/tuning/jobs).</param>
    public static TuningPlan Create(TuningGrid grid, IReadOnlyList<Method> methods, string tuningJobsDir,
        Func<string, int, IReadOnlyList<Method>, PlanVariant, ExperimentPlan> createPlan)
    {
        // Zero-shot trains nothing and llm-public has no client, so the client lr × epochs grid would not change them. An
        // ablation of FedCoLLM is tuned as FedCoLLM (TunedAs), so it differs from FedCoLLM in its one change alone.
        var trained = methods.Where(m => m is not (Method.ZeroShot or Method.LlmPublic)).Select(TunedAs).Distinct().Order().ToArray();
        var cells = grid.Cells.Select(cell =>
        {
            var plan = createPlan(Split, Seed, trained, new PlanVariant($"{JobPrefix}{cell.Slug}-", tuningJobsDir, _ => cell.JobLines));
            AssertValidationOnly(plan);
            return (cell, plan);
        }).ToArray();
        return new TuningPlan(grid, trained, cells);
    }

    // A path component named test.jsonl (the held-out split every built-in benchmark ships per client).
    static readonly Regex TestSplitFile = new(@"(^|[/\\])test\.jsonl\b", RegexOptions.IgnoreCase);

    /// <summary>
    /// Refuses a tuning plan whose jobs could read the test split: every job's definition — the canonical spec every node
    /// obeys, not just the job file's text, whose base lines a later line may override — must evaluate only on
    /// <c>validation.jsonl</c> files and name no <c>test.jsonl</c> anywhere (public set, server training set, evaluation).
    /// </summary>
    public static void AssertValidationOnly(ExperimentPlan plan)
    {
        foreach (var job in plan.Jobs)
        {
            var definition = JobSpecs.DefinitionOf(job.Spec);
            if (definition.Data.Evaluation.Sets.Count == 0)
                throw new InvalidOperationException($"Tuning job {job.JobId} ({job.JobFile}) scores no evaluation set; tuning must score the validation split.");
            foreach (var set in definition.Data.Evaluation.Sets)
                if (!set.Path.Replace('\\', '/').EndsWith("/validation.jsonl", StringComparison.Ordinal))
                    throw new InvalidOperationException($"Tuning job {job.JobId} ({job.JobFile}) evaluates on {set.Path}; tuning may only read validation.jsonl files.");
            if (TestSplitFile.Match(job.Spec.Definition) is { Success: true } m)
                throw new InvalidOperationException($"Tuning job {job.JobId} ({job.JobFile}) names a test split file ({m.Value}); tuning may only read validation files.");
        }
    }

    /// <summary>Every (method, cell) score from the finished tuning jobs; NaN where a cell's jobs did not all finish.</summary>
    public IReadOnlyList<TuningResult> Results(IReadOnlyList<(ExperimentJob Job, RoundState State, TimeSpan? Wall)> finished)
    {
        var results = new List<TuningResult>();
        foreach (var (cell, plan) in Cells)
        {
            var runs = finished.Where(f => plan.Jobs.Any(j => j.JobId == f.Job.JobId)).ToArray();
            var slm = ExperimentReport.Table(plan, runs).Where(r => r.Model == "SLM").ToDictionary(r => r.Method);
            foreach (var method in Methods)
            {
                var ids = plan.Jobs.Where(j => j.Method == method).Select(j => j.JobId).ToArray();
                bool complete = ids.All(id => runs.Any(r => r.Job.JobId == id));
                double score = complete && slm.TryGetValue(method, out var row) && row.Columns["average"].PerSeed.Count == 1
                    ? row.Columns["average"].PerSeed[0] : double.NaN;
                results.Add(new TuningResult(method, cell, score, ids));
            }
        }
        return results;
    }

    /// <summary>Each method's chosen cell (absent for a method none of whose cells finished).</summary>
    public static IReadOnlyDictionary<Method, TuningCell> Choices(IReadOnlyList<TuningResult> results) =>
        results.GroupBy(r => r.Method)
            .Select(g => (Method: g.Key, Cell: TuningGrid.Choose(g.Select(r => (r.Cell, r.Score)))))
            .Where(c => c.Cell is not null)
            .ToDictionary(c => c.Method, c => c.Cell!);

    /// <summary>The method whose choice <paramref name="method"/> takes: FedCoLLM for its ablations (λ = 0, KD only, T²),
    /// which would otherwise differ from it in their client settings too and no longer isolate their one change; itself
    /// for every other method.</summary>
    public static Method TunedAs(Method method) =>
        method is Method.FedCoLLMCeOnly or Method.FedCoLLMKdOnly or Method.FedCoLLMT2 ? Method.FedCoLLM : method;

    /// <summary>The reported run's variant: each method's chosen lines (Zero-shot has none: it trains nothing).</summary>
    public static PlanVariant Chosen(IReadOnlyDictionary<Method, TuningCell> choices) =>
        new("", null, m => choices.TryGetValue(TunedAs(m), out var cell) ? cell.JobLines : []);

    /// <summary>The reported table's caption: how the settings were chosen and what each method got.</summary>
    public string Caption(IReadOnlyDictionary<Method, TuningCell> choices) =>
        $"Each method's client lr and epochs chosen on validation from the same {Grid.Cells.Count}-cell grid "
        + $"(lr ∈ {{{string.Join(", ", Grid.LearningRates.Select(l => new TuningCell(l, 1).LearningRateText))}}} × epochs ∈ {{{string.Join(", ", Grid.Epochs)}}}; "
        + $"seed {Seed}, mean SLM validation accuracy over the client domains; ties → smaller lr, then fewer epochs; tuning.md), run before the test split was scored: "
        + string.Join("; ", Methods.Where(choices.ContainsKey).Select(m => $"{m} lr {choices[m].LearningRateText}, {choices[m].Epochs} ep"))
        + (Methods.Contains(Method.FedCoLLM) ? "; FedCoLLM's ablations take FedCoLLM's choice." : ".");
}

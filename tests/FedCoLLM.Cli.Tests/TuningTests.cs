using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Cli.Experiment;

namespace FedCoLLM.Cli.Tests;

/// <summary>`fedcollm experiment --tune`: the grid's choice rule, the validation-only guarantee of the tuning jobs, and
/// each method's choice reaching the test-split job files. No job runs: the plans are generated from the real built-in
/// job and benchmark files and read back through the job-file parser, as a node would.</summary>
public class TuningTests
{
    static readonly TuningCell A = new(1e-3, 1), B = new(1e-3, 2), C = new(2e-3, 1), D = new(2e-3, 2);

    [Fact]
    public void Choose_takes_the_best_score_and_breaks_ties_by_smaller_lr_then_fewer_epochs_whatever_the_order()
    {
        (TuningCell, double)[] scored = [(D, 0.40), (C, 0.40), (B, 0.40), (A, 0.30)];
        // Every order of the same scores gives the same cell: B (lr 1e-3 beats 2e-3; among lr 1e-3 only B ties the best).
        foreach (var order in Permutations(scored))
            Assert.Equal(B, TuningGrid.Choose(order));
        Assert.Equal(A, TuningGrid.Choose([(B, 0.5), (A, 0.5), (D, 0.5)]));
        Assert.Equal(C, TuningGrid.Choose([(A, 0.1), (C, 0.5), (D, 0.5)]));
        // The same right answers summed in another order are a tie, not a win by one ulp.
        Assert.Equal(A, TuningGrid.Choose([(B, 0.1 + 0.2 + 0.3), (A, 0.3 + 0.2 + 0.1)]));
        Assert.Equal(D, TuningGrid.Choose([(A, 0.3), (D, 0.31)]));
    }

    [Fact]
    public void Choose_never_picks_an_unfinished_cell_and_gives_none_when_nothing_finished()
    {
        Assert.Equal(C, TuningGrid.Choose([(A, double.NaN), (C, 0.2), (D, 0.1)]));
        Assert.Null(TuningGrid.Choose([(A, double.NaN), (B, double.NaN)]));
        Assert.Null(TuningGrid.Choose([]));
    }

    [Fact]
    public void Grid_is_sorted_and_bad_lists_are_refused_naming_the_option()
    {
        var grid = TuningGrid.Parse("5e-3, 5e-4,1e-3", "2,1");
        Assert.Equal(new[] { 5e-4, 1e-3, 5e-3 }, grid.LearningRates);
        Assert.Equal(new[] { new TuningCell(5e-4, 1), new TuningCell(5e-4, 2), new TuningCell(1e-3, 1) }, grid.Cells.Take(3));
        Assert.Equal(6, grid.Cells.Count);
        Assert.Equal("lr0.0005-e2", grid.Cells[1].Slug);
        Assert.Contains("--tune-lr", Assert.Throws<ArgumentException>(() => TuningGrid.Parse("1e-3,-1", "1")).Message);
        Assert.Contains("--tune-lr", Assert.Throws<ArgumentException>(() => TuningGrid.Parse("1e-3,0.001", "1")).Message);
        Assert.Contains("--tune-epochs", Assert.Throws<ArgumentException>(() => TuningGrid.Parse("1e-3", "0")).Message);
        Assert.Contains("--tune-epochs", Assert.Throws<ArgumentException>(() => TuningGrid.Parse("1e-3", "")).Message);
    }

    [Theory]
    [InlineData("wordnet", "1e-3,5e-3", "1")]
    [InlineData("skills", "1e-3", "2")]
    public void Tuning_jobs_evaluate_on_validation_files_only_and_carry_their_cell(string benchmark, string lrs, string epochs)
    {
        using var dir = new TempDir();
        var grid = TuningGrid.Parse(lrs, epochs);
        var tuning = Tuning(dir.Path, benchmark, grid, [Method.FedCoLLM, Method.FedAvg, Method.Standalone, Method.Centralized, Method.ZeroShot]);

        Assert.Equal(new[] { Method.FedCoLLM, Method.FedAvg, Method.Standalone, Method.Centralized }, tuning.Methods);
        // Every cell × (FedCoLLM, FedAvg, 2 Standalone clients, Centralized), one seed.
        Assert.Equal(grid.Cells.Count * 5, tuning.Jobs.Count());
        foreach (var (cell, plan) in tuning.Cells)
            foreach (var job in plan.Jobs)
            {
                Assert.StartsWith($"tune-{cell.Slug}-", job.JobId);
                Assert.Equal(1, job.Seed);
                Assert.Equal(Path.Combine(dir.Path, "tuning", "jobs"), Path.GetDirectoryName(job.JobFile));
                // The spec the plan read back from the job file on disk (JobFile.Load), as `fedcollm run` would.
                var definition = JobSpecs.DefinitionOf(job.Spec);
                Assert.NotEmpty(definition.Data.Evaluation.Sets);
                Assert.All(definition.Data.Evaluation.Sets, s => Assert.Equal("validation.jsonl", Path.GetFileName(s.Path)));
                Assert.All(definition.Data.Evaluation.Sets, s => Assert.True(File.Exists(s.Path), s.Path));
                Assert.DoesNotContain("test.jsonl", System.Text.Encoding.UTF8.GetString(definition.CanonicalBytes()));
                Assert.Equal(cell.LearningRate, definition.Training.Client.LearningRate);
                Assert.Equal(cell.Epochs, definition.Training.Client.Epochs);
                Assert.False(definition.Data.Evaluation.ScoreBaseline); // no Zero-shot job in tuning
            }
    }

    [Fact]
    public void Ablations_are_tuned_as_FedCoLLM_and_run_with_its_choice_so_each_differs_from_it_in_one_thing()
    {
        using var dir = new TempDir();
        var grid = TuningGrid.Parse("1e-3,5e-3", "1");
        Method[] methods = [Method.FedCoLLMCeOnly, Method.FedCoLLMKdOnly, Method.FedCoLLMT2, Method.LlmPublic, Method.FedAvg];
        var tuning = Tuning(dir.Path, "wordnet", grid, methods);

        // The ablations alone were asked for, yet FedCoLLM is what gets tuned; llm-public has no client to tune.
        Assert.Equal(new[] { Method.FedCoLLM, Method.FedAvg }, tuning.Methods);
        Assert.Equal(grid.Cells.Count * 2, tuning.Jobs.Count());

        var choices = new Dictionary<Method, TuningCell> { [Method.FedCoLLM] = new(5e-3, 1), [Method.FedAvg] = new(1e-3, 1) };
        var test = Plan(dir.Path, "wordnet", "test", 1, methods, TuningPlan.Chosen(choices));
        foreach (var job in test.Jobs.Where(j => j.Method != Method.LlmPublic))
        {
            var client = JobSpecs.DefinitionOf(job.Spec).Training.Client;
            var expected = job.Method == Method.FedAvg ? choices[Method.FedAvg] : choices[Method.FedCoLLM];
            Assert.Equal((expected.LearningRate, expected.Epochs), (client.LearningRate, client.Epochs));
        }
        Assert.Contains("ablations take FedCoLLM's choice", tuning.Caption(choices));
    }

    [Fact]
    public void The_guard_refuses_a_plan_that_scores_the_test_split()
    {
        using var dir = new TempDir();
        var plan = Plan(dir.Path, "wordnet", "test", 1, [Method.FedAvg], null);
        var e = Assert.Throws<InvalidOperationException>(() => TuningPlan.AssertValidationOnly(plan));
        Assert.Contains("test.jsonl", e.Message);
        Assert.Contains("fedavg-s1", e.Message);
    }

    [Fact]
    public void Each_methods_choice_from_the_finished_tuning_jobs_reaches_its_test_split_job_files()
    {
        using var dir = new TempDir();
        var grid = TuningGrid.Parse("1e-3,5e-3", "1,2");
        Method[] methods = [Method.FedCoLLM, Method.FedAvg, Method.Standalone, Method.ZeroShot];
        var tuning = Tuning(dir.Path, "wordnet", grid, methods);

        // Finished tuning jobs with made-up validation accuracies: FedCoLLM is best at (5e-3, 1); FedAvg ties at
        // (1e-3, 2) and (5e-3, 2) → the smaller lr; Standalone's score averages its two clients' jobs (best at 1e-3, 1).
        double Accuracy(ExperimentJob job, TuningCell cell) => (job.Method, job.Domain) switch
        {
            (Method.FedCoLLM, _) => cell == new TuningCell(5e-3, 1) ? 0.5 : 0.3,
            (Method.FedAvg, _) => cell.Epochs == 2 ? 0.4 : 0.2,
            (Method.Standalone, "noun.animal") => cell == new TuningCell(1e-3, 1) ? 0.6 : 0.1,
            (Method.Standalone, _) => cell == new TuningCell(1e-3, 1) ? 0.0 : 0.4, // mean 0.3 at (1e-3, 1), 0.25 elsewhere
            _ => throw new InvalidOperationException(job.JobId),
        };
        var finished = tuning.Cells.SelectMany(c => c.Plan.Jobs.Select(j => (j, Finished(j, c.Plan.Domains, Accuracy(j, c.Cell)), (TimeSpan?)null))).ToList();
        // One unfinished job makes its whole (method, cell) ineligible: Standalone's best cell loses a client.
        var unfinishedId = tuning.Cells.Single(c => c.Cell == new TuningCell(5e-3, 2)).Plan.Jobs.First(j => j.Method == Method.Standalone).JobId;
        finished.RemoveAll(f => f.j.JobId == unfinishedId);

        var results = tuning.Results(finished);
        Assert.Equal(4 * 3, results.Count);
        Assert.True(double.IsNaN(results.Single(r => r.Method == Method.Standalone && r.Cell == new TuningCell(5e-3, 2)).Score));
        Assert.Equal(0.3, results.Single(r => r.Method == Method.Standalone && r.Cell == new TuningCell(1e-3, 1)).Score, 12);
        var choices = TuningPlan.Choices(results);
        Assert.Equal(new TuningCell(5e-3, 1), choices[Method.FedCoLLM]);
        Assert.Equal(new TuningCell(1e-3, 2), choices[Method.FedAvg]);
        Assert.Equal(new TuningCell(1e-3, 1), choices[Method.Standalone]);
        Assert.False(choices.ContainsKey(Method.ZeroShot));

        var test = Plan(dir.Path, "wordnet", "test", 2, methods, TuningPlan.Chosen(choices));
        Assert.Equal(2 * 4, test.Jobs.Count); // per seed: FedCoLLM, FedAvg, 2 Standalone
        foreach (var job in test.Jobs)
        {
            var definition = JobSpecs.DefinitionOf(job.Spec);
            Assert.Equal(choices[job.Method].LearningRate, definition.Training.Client.LearningRate);
            Assert.Equal(choices[job.Method].Epochs, definition.Training.Client.Epochs);
            Assert.All(definition.Data.Evaluation.Sets, s => Assert.Equal("test.jsonl", Path.GetFileName(s.Path)));
            Assert.Equal(Path.Combine(dir.Path, "jobs"), Path.GetDirectoryName(job.JobFile));
            Assert.DoesNotContain("tune-", job.JobId);
        }
        Assert.Contains("same 4-cell grid", tuning.Caption(choices));
        Assert.Contains("FedAvg lr 0.001, 2 ep", tuning.Caption(choices));

        TuningReport.Write(dir.Path, tuning, results, choices, TimeSpan.FromSeconds(1));
        var md = File.ReadAllText(Path.Combine(dir.Path, "tuning.md"));
        Assert.Contains("| 0.005 | 1 | **50.0** | 20.0 | 25.0 |", md);
        Assert.Contains("| 0.005 | 2 | 30.0 | 40.0 | – |", md);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "tuning.json")))!;
        Assert.Equal(0.001, json["chosen"]!["fedavg"]!["learning_rate"]!.GetValue<double>());
        Assert.Equal(2, json["chosen"]!["fedavg"]!["epochs"]!.GetValue<int>());
    }

    static RoundState Finished(ExperimentJob job, IReadOnlyList<string> domains, double accuracy)
    {
        var metrics = (job.Domain is null ? domains : [job.Domain]).ToDictionary(d => $"slm/acc/{d}", _ => accuracy);
        var blob = new BlobRef(new string('0', 64), 1);
        return RoundState.Empty with { Phase = RoundPhase.Completed, History = [new CommittedRound(1, 1, [], [], blob, blob, metrics, DateTimeOffset.UnixEpoch)] };
    }

    static TuningPlan Tuning(string outDir, string benchmark, TuningGrid grid, IReadOnlyList<Method> methods) =>
        TuningPlan.Create(grid, methods, Path.Combine(outDir, "tuning", "jobs"), (split, seeds, ms, variant) => Plan(outDir, benchmark, split, seeds, ms, variant));

    /// <summary>The quick built-in job, its relative paths made absolute (tests do not run from the repository root), on
    /// <paramref name="benchmark"/>'s data, two clients, eight training examples each. The base's own evaluation set is a
    /// test file that does not exist: the plan replaces it in every job and must never open it (parsing a job opens and
    /// hashes every file it names), so planning succeeds only if no step touches it.</summary>
    static ExperimentPlan Plan(string outDir, string benchmark, string split, int seeds, IReadOnlyList<Method> methods, PlanVariant? variant)
    {
        string Abs(string relative) => Path.Combine(Repository.Root, relative).Replace('\\', '/');
        var baseJob = Path.Combine(outDir, "base.conf");
        var data = Path.Combine(Repository.Root, "data", benchmark);
        File.WriteAllText(baseJob, File.ReadAllText(TestJobs.QuickBase) + $$"""

            job.models.slm.path = "{{Abs("models/wordnet-slm")}}"
            job.models.llm.path = "{{Abs("models/wordnet-llm")}}"
            job.data.prompt.file = "{{Abs($"data/{benchmark}/prompt.json")}}"
            job.data.public-set = "{{Abs($"data/{benchmark}/public/train.jsonl")}}"
            job.data.evaluation.sets = [ { name = "base", path = "{{Path.Combine(outDir, "missing", "test.jsonl").Replace('\\', '/')}}" } ]

            """);
        return ExperimentPlan.Create(baseJob, data, outDir, 2, 1, seeds, methods, split, 8, null, [], new ExperimentOptions(), 8, variant);
    }

    static IEnumerable<T[]> Permutations<T>(T[] items) => items.Length <= 1 ? [items]
        : items.SelectMany((x, i) => Permutations(items.Where((_, j) => j != i).ToArray()).Select(rest => rest.Prepend(x).ToArray()));
}

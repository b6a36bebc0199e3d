using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Cli.Federation;
using FedCoLLM.Learning.Checkpoints;
using FedCoLLM.Learning.Lora;

namespace FedCoLLM.Cli.Experiment;

/// <summary>
/// results.md, results.json and the plots of `fedcollm experiment`, computed from the persisted round histories
/// only (a resumed experiment reports exactly what its journal holds). A cell is the final round's accuracy,
/// mean ± sample standard deviation over seeds; the average column averages the domains within a seed first.
/// </summary>
public static class ExperimentReport
{
    public sealed record Cell(IReadOnlyList<double> PerSeed)
    {
        public double Mean => PerSeed.Average();
        public double Std => PerSeed.Count < 2 ? 0 : Math.Sqrt(PerSeed.Sum(x => (x - Mean) * (x - Mean)) / (PerSeed.Count - 1));
        public string Text => PerSeed.Count == 0 ? "–" : PerSeed.Count == 1 ? Pct(Mean) : $"{Pct(Mean)} ± {Pct(Std)}";
    }

    public sealed record Row(string Model, Method Method, IReadOnlyDictionary<string, Cell> Columns);

    /// <summary>Accuracy of <paramref name="model"/> ("slm"/"llm") under <paramref name="method"/> on <paramref name="column"/>
    /// (a domain or "public") per seed, from each seed's final round (Zero-shot: the initialisation baseline).</summary>
    internal static List<double> Values(IReadOnlyList<(ExperimentJob Job, RoundState State, TimeSpan? Wall)> runs, Method method, string model, string column, int? round = null)
    {
        var values = new List<double>();
        foreach (var seed in runs.Select(r => r.Job.Seed).Distinct().Order())
        {
            var jobs = runs.Where(r => r.Job.Seed == seed).ToList();
            IReadOnlyDictionary<string, double>? metrics = null;
            if (method == Method.ZeroShot || round == 0)
                metrics = jobs.Select(r => r.State.Baseline).FirstOrDefault(b => b.ContainsKey($"{model}/acc/{column}"));
            else
            {
                var job = jobs.FirstOrDefault(r => r.Job.Method == method && (method != Method.Standalone || r.Job.Domain == column));
                if (job.State is not null && job.State.History.Count > 0)
                    metrics = round is int k ? job.State.History.FirstOrDefault(h => h.Round == k)?.Metrics : job.State.History[^1].Metrics;
            }
            if (metrics is not null && metrics.TryGetValue($"{model}/acc/{column}", out var v) && double.IsFinite(v)) values.Add(v);
        }
        return values;
    }

    static IReadOnlyList<string> ModelsOf(Method m) => m switch
    {
        Method.FedCoLLM or Method.Centralized or Method.ZeroShot or Method.FedCoLLMCeOnly or Method.FedCoLLMKdOnly or Method.FedCoLLMT2 => ["slm", "llm"],
        Method.LlmPublic => ["llm"], // it never trains the SLM: an SLM row would repeat zero-shot
        _ => ["slm"], // FedAvg and Standalone never train the LLM: it stays the zero-shot model.
    };

    public static IReadOnlyList<Row> Table(ExperimentPlan plan, IReadOnlyList<(ExperimentJob Job, RoundState State, TimeSpan? Wall)> runs)
    {
        var rows = new List<Row>();
        foreach (var model in new[] { "slm", "llm" })
            foreach (var method in plan.Methods.Where(m => ModelsOf(m).Contains(model)))
            {
                var columns = new Dictionary<string, Cell>();
                foreach (var d in plan.Domains) columns[d] = new Cell(Values(runs, method, model, d));
                // The average of a seed is over the domains that seed scored.
                var seeds = runs.Select(r => r.Job.Seed).Distinct().Order().ToArray();
                var averages = seeds.Select(seed =>
                {
                    var only = runs.Where(r => r.Job.Seed == seed).ToList();
                    var v = plan.Domains.SelectMany(d => Values(only, method, model, d)).ToArray();
                    return v.Length == plan.Domains.Count ? v.Average() : double.NaN;
                }).Where(double.IsFinite).ToArray();
                columns["average"] = new Cell(averages);
                columns["public"] = new Cell(Values(runs, method, model, "public"));
                rows.Add(new Row(model.ToUpperInvariant(), method, columns));
            }
        return rows;
    }

    /// <summary>Domain-average accuracy per round (round 0 = zero-shot), mean over seeds; one series per method.</summary>
    static IReadOnlyList<(Method Method, double[] Rounds, double[] Accuracy)> Curves(ExperimentPlan plan,
        IReadOnlyList<(ExperimentJob Job, RoundState State, TimeSpan? Wall)> runs, string model)
    {
        var curves = new List<(Method, double[], double[])>();
        foreach (var method in plan.Methods.Where(m => m != Method.ZeroShot && ModelsOf(m).Contains(model)))
        {
            var xs = new List<double>();
            var ys = new List<double>();
            for (int round = 0; round <= plan.Rounds; round++)
            {
                var perSeed = runs.Select(r => r.Job.Seed).Distinct().Select(seed =>
                {
                    var only = runs.Where(r => r.Job.Seed == seed).ToList();
                    var v = plan.Domains.SelectMany(d => Values(only, method, model, d, round)).ToArray();
                    return v.Length == plan.Domains.Count ? v.Average() : double.NaN;
                }).Where(double.IsFinite).ToArray();
                if (perSeed.Length == 0) continue;
                xs.Add(round);
                ys.Add(100 * perSeed.Average());
            }
            if (xs.Count > 0) curves.Add((method, xs.ToArray(), ys.ToArray()));
        }
        return curves;
    }

    static string Pct(double x) => (100 * x).ToString("F1", CultureInfo.InvariantCulture);

    /// <summary>The base job's knobs as one line, for the report (record ToString prints a list's type, not its items). The
    /// LLM SFT settings are the Centralized job's own (only its file has that block, at the learning rate
    /// <see cref="ExperimentOptions.CentralizedJobLines"/> chose), not the base job's fallback to the client SFT's.</summary>
    public static string Describe(ExperimentPlan plan)
    {
        var s = plan.Base.ToSetup();
        var centralized = plan.Jobs.FirstOrDefault(j => j.Method == Method.Centralized);
        var sft = (centralized is null ? null : JobSpecs.DefinitionOf(centralized.Spec).ToSetup().LlmFineTuning)
            ?? s.LlmFineTuning ?? s.ClientTraining;
        return string.Create(CultureInfo.InvariantCulture,
            $"λ={s.Distillation.Lambda} T={s.Distillation.Kd.Temperature} k={s.TopK} "
            + $"SLM LoRA r={s.SlmLora.Rank} α={s.SlmLora.Alpha} [{string.Join(",", s.SlmLora.TargetModules)}] "
            + $"LLM LoRA r={s.LlmLora.Rank} α={s.LlmLora.Alpha} [{string.Join(",", s.LlmLora.TargetModules)}] "
            + $"client SFT {s.ClientTraining.Epochs} ep lr {s.ClientTraining.Optimizer.LearningRate} · "
            + $"SLM distill {s.SlmDistillation.Epochs} ep lr {s.SlmDistillation.Optimizer.LearningRate} · "
            + $"LLM distill {s.LlmDistillation.Epochs} ep lr {s.LlmDistillation.Optimizer.LearningRate} · "
            + $"LLM SFT (centralized) {sft.Epochs} ep lr {sft.Optimizer.LearningRate} · "
            + $"batch {s.ClientTraining.BatchSize} · max length {s.MaxLength} · threads {s.Compute.Threads}");
    }

    /// <param name="caption">How the methods' settings were chosen (<c>--tune</c>: <see cref="TuningPlan.Caption"/>), printed
    /// under the accuracy table's heading and kept in results.json; null when they were not tuned.</param>
    public static string Write(string outDir, ExperimentPlan plan, IReadOnlyList<(ExperimentJob Job, RoundState State, TimeSpan? Wall)> runs,
        IBlobStore store, string recordsDir, TimeSpan wall, string? caption = null)
    {
        var rows = Table(plan, runs);
        var comm = ExperimentCommunication.Accounting(runs, recordsDir, store, plan.Base.ToSetup());
        var slmCurves = Curves(plan, runs, "slm");
        var llmCurves = Curves(plan, runs, "llm");
        var losses = LossCurves(plan, runs);
        ExperimentPlots.Accuracy(Path.Combine(outDir, "accuracy-slm.png"), "SLM: mean accuracy over the client domains", slmCurves);
        ExperimentPlots.Accuracy(Path.Combine(outDir, "accuracy-llm.png"), "LLM: mean accuracy over the client domains", llmCurves);
        ExperimentPlots.Losses(Path.Combine(outDir, "distillation-loss.png"), losses);

        var md = Markdown(plan, runs, rows, comm, slmCurves, llmCurves, wall, caption);
        File.WriteAllText(Path.Combine(outDir, "results.md"), md);
        var json = Json(plan, runs, rows, comm, slmCurves, llmCurves, losses, wall);
        json["caption"] = caption;
        File.WriteAllText(Path.Combine(outDir, "results.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return md;
    }

    /// <summary>Per round, mean over seeds of FedCoLLM's distillation losses (CE + λ·KL, tail of the epoch) and, for
    /// reference, the Centralized LLM's SFT loss.</summary>
    static IReadOnlyList<(string Name, double[] Rounds, double[] Loss)> LossCurves(ExperimentPlan plan, IReadOnlyList<(ExperimentJob Job, RoundState State, TimeSpan? Wall)> runs)
    {
        var series = new List<(string, double[], double[])>();
        foreach (var (method, key, name) in new[]
                 {
                     (Method.FedCoLLM, "slm_distill_loss", "FedCoLLM LLM→SLM distillation"),
                     (Method.FedCoLLM, "llm_distill_loss", "FedCoLLM SLM→LLM distillation"),
                     (Method.Centralized, "llm_sft_loss", "Centralized LLM SFT (pooled data)"),
                 })
        {
            var (xs, ys) = MeanPerRound(plan, runs, method, key);
            if (xs.Length > 0) series.Add((name, xs, ys));
        }
        return series;
    }

    /// <summary>The rounds in which <paramref name="method"/>'s runs recorded the round metric <paramref name="key"/>, and its
    /// mean over those runs (seeds) in each.</summary>
    static (double[] Rounds, double[] Means) MeanPerRound(ExperimentPlan plan,
        IReadOnlyList<(ExperimentJob Job, RoundState State, TimeSpan? Wall)> runs, Method method, string key)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        for (int round = 1; round <= plan.Rounds; round++)
        {
            var v = runs.Where(r => r.Job.Method == method)
                .Select(r => r.State.History.FirstOrDefault(h => h.Round == round)?.Metrics.GetValueOrDefault(key, double.NaN) ?? double.NaN)
                .Where(double.IsFinite).ToArray();
            if (v.Length == 0) continue;
            xs.Add(round);
            ys.Add(v.Average());
        }
        return (xs.ToArray(), ys.ToArray());
    }

    /// <summary>Per method, direction and round, the teacher's mean probability mass outside its top-k at the job's T
    /// (metrics of the teacher passes, <c>Learning/Losses/TeacherMass.cs</c>), mean over seeds; only what the runs hold.</summary>
    static IReadOnlyList<(Method Method, string Direction, double[] Rounds, double[] Mass)> TeacherMassCurves(ExperimentPlan plan,
        IReadOnlyList<(ExperimentJob Job, RoundState State, TimeSpan? Wall)> runs)
    {
        var series = new List<(Method, string, double[], double[])>();
        foreach (var method in plan.Methods)
            foreach (var (key, direction) in new[] { (LearningStepRunner.LlmToSlmTeacherMass, "LLM→SLM"), (LearningStepRunner.SlmToLlmTeacherMass, "SLM→LLM") })
            {
                var (xs, ys) = MeanPerRound(plan, runs, method, key);
                if (xs.Length > 0) series.Add((method, direction, xs, ys));
            }
        return series;
    }

    static void TeacherMassTable(StringBuilder md, ExperimentPlan plan, IReadOnlyList<(Method Method, string Direction, double[] Rounds, double[] Mass)> series)
    {
        if (series.Count == 0) return;
        var rounds = Enumerable.Range(1, plan.Rounds).ToArray();
        md.AppendLine().AppendLine($"## Teacher probability mass outside its top-{plan.Base.Distillation.Kd.TopK} per round (%, at T = {plan.Base.Distillation.Kd.Temperature.ToString(CultureInfo.InvariantCulture)}; mean over answer positions and seeds)").AppendLine();
        md.AppendLine("What the sparse KD term never sees: the share of the teacher's full distribution outside the k logits it sends.").AppendLine();
        md.AppendLine($"| method | direction | {string.Join(" | ", rounds.Select(r => $"round {r}"))} |");
        md.AppendLine($"|---|---|{string.Concat(rounds.Select(_ => "---:|"))}");
        foreach (var (method, direction, xs, ys) in series)
        {
            var cells = rounds.Select(r => Array.IndexOf(xs, (double)r) is var i and >= 0 ? (100 * ys[i]).ToString("F2", CultureInfo.InvariantCulture) : "–");
            md.AppendLine($"| {method} | {direction} | {string.Join(" | ", cells)} |");
        }
    }

    static string Markdown(ExperimentPlan plan, IReadOnlyList<(ExperimentJob Job, RoundState State, TimeSpan? Wall)> runs,
        IReadOnlyList<Row> rows, ExperimentCommunication.Communication? comm, IReadOnlyList<(Method Method, double[] Rounds, double[] Accuracy)> slmCurves,
        IReadOnlyList<(Method Method, double[] Rounds, double[] Accuracy)> llmCurves, TimeSpan wall, string? caption)
    {
        var md = new StringBuilder();
        md.AppendLine("# FedCoLLM experiment").AppendLine();
        md.AppendLine($"Seeds {string.Join(", ", plan.Seeds)} · {plan.Rounds} round(s) · clients {string.Join(", ", plan.Domains)} · scored on the **{plan.EvalSplit}** split"
            + $" · {runs.Count}/{plan.Jobs.Count} jobs finished · wall time of this invocation {wall.TotalMinutes:F1} min").AppendLine();
        md.AppendLine($"Settings: {Describe(plan)}").AppendLine();
        var missing = plan.Jobs.Where(j => runs.All(r => r.Job.JobId != j.JobId)).Select(j => j.JobId).ToArray();
        if (missing.Length > 0) md.AppendLine($"**Not finished:** {string.Join(", ", missing)} (rerun the same command to complete them).").AppendLine();
        md.AppendLine("## Accuracy (acc, %, final round; mean ± std over seeds)").AppendLine();
        if (caption is not null) md.AppendLine(caption).AppendLine();
        md.AppendLine("Standalone: each client's own model on its own domain. FedAvg and Standalone never train the LLM (it stays the zero-shot LLM). "
            + "`public`: the first questions of the public set the server distils on.").AppendLine();
        var columns = plan.Domains.Append("average").Append("public").ToArray();
        md.AppendLine($"| model | method | {string.Join(" | ", columns)} |");
        md.AppendLine($"|---|---|{string.Concat(columns.Select(_ => "---|"))}");
        foreach (var r in rows)
            md.AppendLine($"| {r.Model} | {r.Method} | {string.Join(" | ", columns.Select(c => r.Columns[c].Text))} |");
        ExperimentContrasts.Markdown(md, ExperimentContrasts.Compute(plan, runs));
        PerRound(md, plan, slmCurves, llmCurves);
        TeacherMassTable(md, plan, TeacherMassCurves(plan, runs));
        if (comm is not null) ExperimentCommunication.Markdown(md, comm);
        md.AppendLine().AppendLine("## Jobs").AppendLine();
        // A job's wall is that of the process that finished it (kept in its record); "not measured" when that process only
        // found it finished in the journal, and only the resumed part when a process resumed it midway.
        md.AppendLine("| job | method | seed | rounds | final SLM adapter | final LLM adapter | wall (the run that finished it) |").AppendLine("|---|---|---|---|---|---|---|");
        foreach (var (job, state, w) in runs)
            md.AppendLine($"| {job.JobId} | {job.Method} | {job.Seed} | {state.History.Count} | `{state.History.LastOrDefault()?.Slm.Sha256[..12]}` | `{state.History.LastOrDefault()?.Llm.Sha256[..12]}` | {(w is null ? "not measured" : $"{w.Value.TotalMinutes:F1} min")} |");
        md.AppendLine().AppendLine("Plots: `accuracy-slm.png`, `accuracy-llm.png`, `distillation-loss.png`.");
        return md.ToString();
    }

    /// <summary>The plots' numbers as a table, so the text alone shows when a method pulls ahead.</summary>
    static void PerRound(StringBuilder md, ExperimentPlan plan, IReadOnlyList<(Method Method, double[] Rounds, double[] Accuracy)> slm,
        IReadOnlyList<(Method Method, double[] Rounds, double[] Accuracy)> llm)
    {
        if (slm.Count + llm.Count == 0) return;
        var rounds = Enumerable.Range(0, plan.Rounds + 1).ToArray();
        md.AppendLine().AppendLine("## Mean accuracy over the client domains per round (%, mean over seeds; round 0 = zero-shot)").AppendLine();
        md.AppendLine($"| model | method | {string.Join(" | ", rounds.Select(r => $"round {r}"))} |");
        md.AppendLine($"|---|---|{string.Concat(rounds.Select(_ => "---:|"))}");
        foreach (var (model, curves) in new[] { ("SLM", slm), ("LLM", llm) })
            foreach (var (method, xs, ys) in curves)
            {
                var cells = rounds.Select(r => Array.IndexOf(xs, (double)r) is var i and >= 0 ? ys[i].ToString("F1", CultureInfo.InvariantCulture) : "–");
                md.AppendLine($"| {model} | {method} | {string.Join(" | ", cells)} |");
            }
    }

    static JsonObject Json(ExperimentPlan plan, IReadOnlyList<(ExperimentJob Job, RoundState State, TimeSpan? Wall)> runs, IReadOnlyList<Row> rows,
        ExperimentCommunication.Communication? comm, IReadOnlyList<(Method Method, double[] Rounds, double[] Accuracy)> slm,
        IReadOnlyList<(Method Method, double[] Rounds, double[] Accuracy)> llm, IReadOnlyList<(string Name, double[] Rounds, double[] Loss)> losses, TimeSpan wall)
    {
        static JsonNode? Num(double x) => double.IsFinite(x) ? JsonValue.Create(x) : null;
        static JsonArray Arr(IEnumerable<double> xs) => new(xs.Select(Num).ToArray());
        JsonArray CurveJson(IEnumerable<(Method Method, double[] Rounds, double[] Accuracy)> curves) =>
            new(curves.Select(c => (JsonNode)new JsonObject { ["method"] = ExperimentPlan.Slug(c.Method), ["rounds"] = Arr(c.Rounds), ["accuracy_percent"] = Arr(c.Accuracy) }).ToArray());
        return new JsonObject
        {
            ["seeds"] = new JsonArray(plan.Seeds.Select(x => (JsonNode)x).ToArray()),
            ["rounds"] = plan.Rounds,
            ["clients"] = new JsonArray(plan.Domains.Select(x => (JsonNode)x).ToArray()),
            ["methods"] = new JsonArray(plan.Methods.Select(m => (JsonNode)ExperimentPlan.Slug(m)).ToArray()),
            ["eval_split"] = plan.EvalSplit,
            ["settings"] = Describe(plan),
            ["machine"] = $"{Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}",
            ["wall_seconds_this_invocation"] = Math.Round(wall.TotalSeconds, 1),
            ["jobs_planned"] = plan.Jobs.Count,
            ["jobs_finished"] = runs.Count,
            ["table"] = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
            {
                ["model"] = r.Model.ToLowerInvariant(),
                ["method"] = ExperimentPlan.Slug(r.Method),
                ["columns"] = new JsonObject(r.Columns.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)new JsonObject
                {
                    ["mean"] = c.Value.PerSeed.Count == 0 ? null : Num(c.Value.Mean),
                    ["std"] = c.Value.PerSeed.Count == 0 ? null : Num(c.Value.Std),
                    ["per_seed"] = Arr(c.Value.PerSeed),
                }))),
            }).ToArray()),
            ["contrasts"] = ExperimentContrasts.Json(ExperimentContrasts.Compute(plan, runs)),
            ["accuracy_per_round"] = new JsonObject { ["slm"] = CurveJson(slm), ["llm"] = CurveJson(llm) },
            ["losses_per_round"] = new JsonArray(losses.Select(l => (JsonNode)new JsonObject { ["series"] = l.Name, ["rounds"] = Arr(l.Rounds), ["loss"] = Arr(l.Loss) }).ToArray()),
            ["teacher_mass_outside_topk_per_round"] = new JsonArray(TeacherMassCurves(plan, runs).Select(t => (JsonNode)new JsonObject
            {
                ["method"] = ExperimentPlan.Slug(t.Method), ["direction"] = t.Direction, ["rounds"] = Arr(t.Rounds), ["mass"] = Arr(t.Mass),
            }).ToArray()),
            ["communication"] = comm is null ? null : ExperimentCommunication.Json(comm),
            ["jobs"] = new JsonArray(runs.Select(r => (JsonNode)new JsonObject
            {
                ["job"] = r.Job.JobId,
                ["method"] = ExperimentPlan.Slug(r.Job.Method),
                ["seed"] = r.Job.Seed,
                ["domain"] = r.Job.Domain,
                ["wall_seconds"] = r.Wall is null ? null : Math.Round(r.Wall.Value.TotalSeconds, 1),
                ["report"] = RunReport.Json(r.State),
            }).ToArray()),
        };
    }
}

using System.ComponentModel;
using System.Diagnostics;
using Akka.Actor;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Client;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Cli.Federation;
using FedCoLLM.Learning.Federation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Experiment;

/// <summary>
/// <c>fedcollm experiment</c>: generates a job file for every method of the comparison and every seed (OUT/jobs/), runs
/// them one after another on the local single-process cluster (the same actors, journal and blob store as
/// <c>fedcollm run</c>; resumable), then writes the paper-style table, plots, communication accounting and results.json
/// from the persisted round histories.
/// </summary>
public sealed class ExperimentCommand : AsyncCommand<ExperimentCommand.Settings>
{
    public sealed class Settings : ExperimentOptions
    {
        [CommandOption("--seeds <N>")] [Description("Seeds 1..N, every method each (default 3; 1 with --quick).")]
        public int? Seeds { get; init; }
        [CommandOption("--rounds <R>")] [Description("Rounds per job (default 3; 1 with --quick).")]
        public int? Rounds { get; init; }
        [CommandOption("--clients <N>")] [Description("Client domains (default 4; 2 with --quick).")]
        public int? Clients { get; init; }
        [CommandOption("--methods <LIST>")] [Description("Comma-separated: fedcollm,fedavg,standalone,centralized,zeroshot (the default), and issue 16's ablations fedcollm-ce-only (λ = 0), fedcollm-kd-only (public CE off), fedcollm-t2 (T² scaling on), llm-public (the LLM fine-tuned on the public set alone).")]
        public string Methods { get; init; } = "fedcollm,fedavg,standalone,centralized,zeroshot";
        [CommandOption("--eval-split <SPLIT>")] [Description("test (reported) or validation (for choosing hyper-parameters).")] [DefaultValue("test")]
        public string EvalSplit { get; init; } = "test";
        [CommandOption("--eval-items <N>")] [Description("Score only the first N questions of each client's evaluation file (default all; 20 with --quick).")]
        public int? EvalItems { get; init; }
        [CommandOption("--public-eval-items <N>")] [Description("Also score both models on the first N public questions (default 200; 20 with --quick; 0 = off).")]
        public int? PublicEvalItems { get; init; }
        [CommandOption("--max-client-examples <N>")] [Description("Train each client on only the first N examples of its file (the Centralized reference pools the same; default all; 32 with --quick).")]
        public int? MaxClientExamples { get; init; }
        [CommandOption("--max-public-examples <N>")] [Description("Distil on only the first N public examples (default: the base job's; 32 with --quick).")]
        public int? MaxPublicExamples { get; init; }
        [CommandOption("--base-job <FILE>")] [Description("The job every generated job file starts from (default jobs/NAME.conf, jobs/NAME-quick.conf with --quick, where NAME is the --data folder's name: wordnet or skills).")]
        public string? BaseJob { get; init; }
        [CommandOption("--out <DIR>")] [Description("Experiment directory: jobs/, journal.db, blobs/, results.md, results.json, plots.")] [DefaultValue("runs/experiment")]
        public string Out { get; init; } = "runs/experiment";
        [CommandOption("--records <DIR>")] [Description("Where each finished job's record is written and read (default OUT/records). A job with a record for its definition is not run again, so a committed folder of records resumes an experiment without its journal.")]
        public string? Records { get; init; }
        [CommandOption("--config <FILE>")] [Description("HOCON files replacing the defaults; repeatable.")]
        public string[] Config { get; init; } = [];
        [CommandOption("--quick")] [Description("Tiny data and steps, 1 seed, 2 clients, 1 round: a structural check in a few minutes.")]
        public bool Quick { get; init; }
        [CommandOption("--tune")] [Description("First choose every training method's client lr and local epochs on the validation split (one seed, the same grid for every method; OUT/tuning.md, tuning.json), then run the test split with each method's choice. Resumable.")]
        public bool Tune { get; init; }
        [CommandOption("--tune-lr <LIST>")] [Description("The tuning grid's client learning rates.")] [DefaultValue(TuningGrid.DefaultLearningRates)]
        public string TuneLearningRates { get; init; } = TuningGrid.DefaultLearningRates;
        [CommandOption("--tune-epochs <LIST>")] [Description("The tuning grid's local epochs.")] [DefaultValue(TuningGrid.DefaultEpochs)]
        public string TuneEpochs { get; init; } = TuningGrid.DefaultEpochs;
        [CommandOption("--data <DIR>")] [Description("The benchmark (its clients/ID/ folders): data/wordnet or data/skills.")] [DefaultValue("data/wordnet")] public string Data { get; init; } = "data/wordnet";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var wall = Stopwatch.StartNew();
        var methods = s.Methods.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ExperimentPlan.ParseMethod).ToArray();
        int publicItems = s.PublicEvalItems ?? (s.Quick ? 20 : 200);
        var overrides = s.ToJobLines().ToList();
        if ((s.MaxPublicExamples ?? (s.Quick ? 32 : null)) is int maxPublic) overrides.Add($"job.training.slm-distillation.max-examples = {maxPublic}");
        // Capped client files are written by the plan, so the job itself trains on the whole (capped) file.
        overrides.Add("job.training.client.max-examples = null");
        int seeds = s.Seeds ?? (s.Quick ? 1 : 3);
        // Tuning and the reported run differ only in the split, the seeds and the per-method lines.
        ExperimentPlan CreatePlan(string split, int seedCount, IReadOnlyList<Method> ms, PlanVariant? variant) =>
            ExperimentPlan.Create(s.BaseJob ?? ExperimentPlan.DefaultBaseJob(s.Data, s.Quick), s.Data, s.Out,
                s.Clients ?? (s.Quick ? 2 : 4), s.Rounds ?? (s.Quick ? 1 : 3), seedCount, ms, split,
                s.EvalItems ?? (s.Quick ? 20 : null), publicItems > 0 ? publicItems : null, overrides, s, s.MaxClientExamples ?? (s.Quick ? 32 : null), variant);
        ExperimentPlan? plan = null;
        TuningPlan? tuning = null;
        try
        {
            if (s.Tune)
            {
                if (s.ClientLearningRate is not null || s.LocalEpochs is not null)
                    throw new ArgumentException("--tune chooses each method's client learning rate and local epochs; drop --lr-client/--local-epochs and set the grid with --tune-lr/--tune-epochs.");
                if (s.EvalSplit != "test")
                    throw new ArgumentException($"--tune chooses on the validation split and reports on the test split; drop --eval-split {s.EvalSplit}.");
                tuning = TuningPlan.Create(TuningGrid.Parse(s.TuneLearningRates, s.TuneEpochs), methods, Path.Combine(s.Out, "tuning", "jobs"),
                    (split, seedCount, ms, variant) => CreatePlan(split, seedCount, ms, variant));
            }
            else plan = CreatePlan(s.EvalSplit, seeds, methods, null);
        }
        catch (Exception e) when (e is JobFileException or ArgumentException or IOException or InvalidOperationException)
        {
            AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(e.Message)}");
            return 2;
        }

        // Tuning enrols the same silos as the reported run (the same methods, clients and capped files).
        var silos = (tuning?.Jobs ?? plan!.Jobs).SelectMany(j => j.Clients).DistinctBy(c => c.ClientId).ToArray();
        await using var host = FederationHost.Start(LocalCluster.LoadConfig(s.Out, s.Config), Path.Combine(s.Out, "blobs"), silos,
            clientBlobDirectory: RunCommand.ClientBlobs(s.Out));
        using var stop = new ConsoleStop(cancellation, handleSigterm: true);
        var records = s.Records ?? ExperimentRecords.DefaultDirectory(s.Out);
        string? caption = null;
        if (tuning is not null)
        {
            var tuneWall = Stopwatch.StartNew();
            Console.WriteLine($"Tuning: {tuning.Grid.Cells.Count} cells × {string.Join(", ", tuning.Methods)} = {tuning.Jobs.Count()} jobs in "
                + $"{Path.Combine(s.Out, "tuning", "jobs")}, seed {TuningPlan.Seed}, scored on the {TuningPlan.Split} split only.");
            var tuned = await ExperimentRunner.RunAsync(host, tuning.Jobs, s.Out, records, stop.Token);
            var results = tuning.Results(tuned.Finished);
            var choices = TuningPlan.Choices(results);
            TuningReport.Write(s.Out, tuning, results, choices, tuneWall.Elapsed);
            if (tuned.Code != 0) return tuned.Code;
            caption = tuning.Caption(choices);
            Console.WriteLine($"Tuning: {Path.Combine(s.Out, "tuning.md")}. {caption}");
            try
            {
                plan = CreatePlan(s.EvalSplit, seeds, methods, TuningPlan.Chosen(choices));
            }
            catch (Exception e) when (e is JobFileException or ArgumentException or IOException)
            {
                AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(e.Message)}");
                return 2;
            }
        }
        Console.WriteLine($"Experiment: {plan!.Jobs.Count} jobs in {Path.Combine(s.Out, "jobs")} ({string.Join(", ", plan.Methods)}; seeds {string.Join(", ", plan.Seeds)}; "
            + $"{plan.Rounds} round(s); clients {string.Join(", ", plan.Domains)}; scored on {plan.EvalSplit}). {ExperimentReport.Describe(plan)}");

        var run = await ExperimentRunner.RunAsync(host, plan.Jobs, s.Out, records, stop.Token);
        // A stopped or failed experiment still reports what finished (the table says which jobs).
        if (run.Code is 1 or 130 && run.Finished.Count > 0) ExperimentReport.Write(s.Out, plan, run.Finished, host.Store, records, wall.Elapsed, caption);
        if (run.Code != 0) return run.Code;
        var report = ExperimentReport.Write(s.Out, plan, run.Finished, host.Store, records, wall.Elapsed, caption);
        Console.WriteLine(report);
        Console.WriteLine($"Results: {Path.Combine(s.Out, "results.md")}, results.json and plots (wall {wall.Elapsed.TotalMinutes:F1} min).");
        return 0;
    }
}

using System.ComponentModel;
using System.Diagnostics;
using Akka.Actor;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Client;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
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
        [CommandOption("--methods <LIST>")] [Description("Comma-separated: fedcollm,fedavg,standalone,centralized,zeroshot (default all).")]
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
        [CommandOption("--base-job <FILE>")] [Description("The job every generated job file starts from (default jobs/wordnet.conf; jobs/wordnet-quick.conf with --quick).")]
        public string? BaseJob { get; init; }
        [CommandOption("--out <DIR>")] [Description("Experiment directory: jobs/, journal.db, blobs/, results.md, results.json, plots.")] [DefaultValue("runs/experiment")]
        public string Out { get; init; } = "runs/experiment";
        [CommandOption("--config <FILE>")] [Description("HOCON files replacing the defaults; repeatable.")]
        public string[] Config { get; init; } = [];
        [CommandOption("--quick")] [Description("Tiny data and steps, 1 seed, 2 clients, 1 round: a structural check in a few minutes.")]
        public bool Quick { get; init; }
        [CommandOption("--data <DIR>")] [Description("The benchmark (its clients/ID/ folders).")] [DefaultValue("data/wordnet")] public string Data { get; init; } = "data/wordnet";
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
        ExperimentPlan plan;
        try
        {
            plan = ExperimentPlan.Create(s.BaseJob ?? (s.Quick ? RunCommand.QuickJob : RunCommand.DefaultJob), s.Data, s.Out,
                s.Clients ?? (s.Quick ? 2 : 4), s.Rounds ?? (s.Quick ? 1 : 3), s.Seeds ?? (s.Quick ? 1 : 3), methods, s.EvalSplit,
                s.EvalItems ?? (s.Quick ? 20 : null), publicItems > 0 ? publicItems : null, overrides, s, s.MaxClientExamples ?? (s.Quick ? 32 : null));
        }
        catch (Exception e) when (e is JobFileException or ArgumentException or IOException)
        {
            AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(e.Message)}");
            return 2;
        }
        Console.WriteLine($"Experiment: {plan.Jobs.Count} jobs in {Path.Combine(s.Out, "jobs")} ({string.Join(", ", plan.Methods)}; seeds {string.Join(", ", plan.Seeds)}; "
            + $"{plan.Rounds} round(s); clients {string.Join(", ", plan.Domains)}; scored on {plan.EvalSplit}). {ExperimentReport.Describe(plan.Base)}");

        var silos = plan.Jobs.SelectMany(j => j.Clients).DistinctBy(c => c.ClientId).ToArray();
        await using var host = FederationHost.Start(LocalCluster.LoadConfig(s.Out, s.Config), Path.Combine(s.Out, "blobs"), silos,
            clientBlobDirectory: RunCommand.ClientBlobs(s.Out));
        using var stop = new ConsoleStop(cancellation);
        var finished = new List<(ExperimentJob Job, RoundState State, TimeSpan? Wall)>();
        foreach (var job in plan.Jobs)
        {
            var jobWall = Stopwatch.StartNew();
            var accepted = await JobFiles.Submit(host.Node.Servers, job.Spec, stop.Token);
            if (accepted is null) return 130;
            if (accepted.Outcome == Outcome.Rejected)
            {
                AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(accepted.Detail ?? "")}");
                return 2;
            }
            Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] == {job.JobId} ({job.Method}{(job.Domain is null ? "" : " " + job.Domain)}, seed {job.Seed}): "
                + (accepted.Outcome == Outcome.Duplicate ? $"resuming ({accepted.Detail})" : "started"));
            var followed = await JobWatch.Follow(host.Node.Servers, [job.JobId], stop.Token);
            if (followed is null)
            {
                Console.WriteLine($"Stopped. Run the same command again to resume from {LocalCluster.JournalPath(s.Out)}.");
                return 130;
            }
            var finals = await JobWatch.AwaitFinalDownloads(host.Node.Servers, followed, stop.Token);
            var state = finals[job.JobId];
            if (state.Phase != RoundPhase.Completed)
            {
                Console.WriteLine($"Job {job.JobId} ended {state.Phase}: {state.FailureReason}. The report lists what finished.");
                ExperimentReport.Write(s.Out, plan, finished, host.Store, wall.Elapsed);
                return 1;
            }
            bool ranHere = accepted.Outcome == Outcome.Accepted || jobWall.Elapsed > TimeSpan.FromSeconds(30);
            finished.Add((job, state, ranHere ? jobWall.Elapsed : null));
        }
        var report = ExperimentReport.Write(s.Out, plan, finished, host.Store, wall.Elapsed);
        Console.WriteLine(report);
        Console.WriteLine($"Results: {Path.Combine(s.Out, "results.md")}, results.json and plots (wall {wall.Elapsed.TotalMinutes:F1} min).");
        return 0;
    }
}

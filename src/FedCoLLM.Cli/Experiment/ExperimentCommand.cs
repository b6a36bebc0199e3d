using System.ComponentModel;
using System.Diagnostics;
using Akka.Actor;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Client;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Cli.Federation;
using FedCoLLM.Learning.Federation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Experiment;

/// <summary>
/// <c>fedcollm experiment</c>: every method of the comparison for every seed, each a federation job on the same
/// local cluster and journal as <c>fedcollm run</c> (one ActorSystem, one job at a time, resumable), then the
/// paper-style table, plots, communication accounting and results.json from the persisted round histories.
/// </summary>
public sealed class ExperimentCommand : AsyncCommand<ExperimentCommand.Settings>
{
    public sealed class Settings : FederationOptions
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
        [CommandOption("--max-public-examples <N>")] [Description("Distil on only the first N public examples (default all; 32 with --quick).")]
        public int? MaxPublicExamples { get; init; }
        [CommandOption("--out <DIR>")] [Description("Experiment directory: journal.db, blobs/, results.md, results.json, plots.")] [DefaultValue("runs/experiment")]
        public string Out { get; init; } = "runs/experiment";
        [CommandOption("--config <FILE>")] [Description("HOCON files replacing the defaults; repeatable.")]
        public string[] Config { get; init; } = [];
        [CommandOption("--quick")] [Description("Tiny data and steps, 1 seed, 2 clients, 1 round: a structural check in a few minutes.")]
        public bool Quick { get; init; }
        [CommandOption("--data <DIR>")] [DefaultValue("data/wordnet")] public string Data { get; init; } = "data/wordnet";
        [CommandOption("--models <DIR>")] [DefaultValue("models")] public string Models { get; init; } = "models";
        [CommandOption("--threads <N>")] [DefaultValue(2)] public int Threads { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var wall = Stopwatch.StartNew();
        var methods = s.Methods.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ExperimentPlan.ParseMethod).ToArray();
        int publicItems = s.PublicEvalItems ?? (s.Quick ? 20 : 200);
        var plan = ExperimentPlan.Create(s.Data, s.Models, s.Out, s.Clients ?? (s.Quick ? 2 : 4), s.Rounds ?? (s.Quick ? 1 : 3),
            s.Seeds ?? (s.Quick ? 1 : 3), methods, s.EvalSplit, publicItems > 0 ? publicItems : null, s.Quick, s.Threads, s,
            s.MaxClientExamples ?? (s.Quick ? 32 : null), s.MaxPublicExamples ?? (s.Quick ? 32 : null));
        if ((s.EvalItems ?? (s.Quick ? 20 : null)) is int items)
            plan = plan with { Jobs = plan.Jobs.Select(j => j with { Server = j.Server with { MaxEvaluationItems = items } }).ToArray() };
        Console.WriteLine($"Experiment: {plan.Jobs.Count} jobs ({string.Join(", ", plan.Methods)}; seeds {string.Join(", ", plan.Seeds)}; "
            + $"{plan.Rounds} round(s); clients {string.Join(", ", plan.Domains)}; scored on {plan.EvalSplit}). {FederationOptions.Describe(plan.Setup)}");

        var config = LocalCluster.LoadConfig(s.Out, s.Config);
        var system = LocalCluster.CreateSystem(config);
        using var stop = new ConsoleStop(cancellation);
        try
        {
            using var steps = new FederationSteps(plan.Setup);
            var blobs = Path.Combine(s.Out, "blobs");
            var store = new DirectoryBlobStore(blobs);
            var runner = new JobStepRunner(plan.Jobs.ToDictionary(j => j.JobId, j => (IStepRunner)new LearningStepRunner(steps, store, j.Server)));
            // No clients at node start: each job's client silos are started for that job and stopped after it.
            var node = FederationNode.Start(system, new NodeOptions("experiment", blobs, runner));

            var finished = new List<(ExperimentJob Job, RoundState State, TimeSpan? Wall)>();
            foreach (var job in plan.Jobs)
            {
                var jobWall = Stopwatch.StartNew();
                var clients = job.Clients.Select(c => system.ActorOf(
                    ClientActor.Props(job.JobId, c.ClientId, c.DataPath, node.Servers, node.Services), $"client-{job.JobId}-{c.ClientId}")).ToArray();
                try
                {
                    var accepted = await node.Servers.Ask<JobAccepted>(new StartFederation(job.JobId, job.Spec), TimeSpan.FromMinutes(1), stop.Token);
                    if (accepted.Outcome == Outcome.Rejected)
                    {
                        AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(accepted.Detail ?? "")}");
                        return 2;
                    }
                    Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] == {job.JobId} ({job.Method}{(job.Domain is null ? "" : " " + job.Domain)}, seed {job.Seed}): "
                        + (accepted.Outcome == Outcome.Duplicate ? $"resuming ({accepted.Detail})" : "started"));
                    var state = await RunCommand.Follow(node.Servers, job.JobId, stop.Token);
                    if (state is null)
                    {
                        Console.WriteLine($"Stopped. Run the same command again to resume from {LocalCluster.JournalPath(s.Out)}.");
                        return 130;
                    }
                    if (state.Phase != RoundPhase.Completed)
                    {
                        Console.WriteLine($"Job {job.JobId} failed: {state.FailureReason}. Rerun the command to retry it; the report lists what finished.");
                        ExperimentReport.Write(s.Out, plan, finished, store, wall.Elapsed, s.Models);
                        return 1;
                    }
                    bool ranHere = accepted.Outcome == Outcome.Accepted || jobWall.Elapsed > TimeSpan.FromSeconds(30);
                    finished.Add((job, state, ranHere ? jobWall.Elapsed : null));
                }
                finally
                {
                    foreach (var c in clients) system.Stop(c);
                }
            }
            var report = ExperimentReport.Write(s.Out, plan, finished, store, wall.Elapsed, s.Models);
            Console.WriteLine(report);
            Console.WriteLine($"Results: {Path.Combine(s.Out, "results.md")}, results.json and plots (wall {wall.Elapsed.TotalMinutes:F1} min).");
            return 0;
        }
        finally
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
        }
    }
}

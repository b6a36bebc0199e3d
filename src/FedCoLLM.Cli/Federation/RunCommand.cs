using System.ComponentModel;
using System.Diagnostics;
using Akka.Actor;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// <c>fedcollm run</c>: a FedCoLLM federation on the local single-process cluster (every role in one
/// ActorSystem that joins itself), journaled to SQLite in --out. Running it again on the same --out resumes
/// from the journal; a finished run prints its results.
/// </summary>
public sealed class RunCommand : AsyncCommand<RunCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--clients <N>")] [Description("Client silos, one per benchmark domain (default 4; 2 with --quick).")]
        public int? Clients { get; init; }
        [CommandOption("--rounds <R>")] [Description("Federation rounds (default 4; 1 with --quick).")]
        public int? Rounds { get; init; }
        [CommandOption("--seed <S>")] [DefaultValue(42L)] public long Seed { get; init; }
        [CommandOption("--out <DIR>")] [Description("Run directory: journal.db, blobs/, report.json, report.md, final adapters.")] [DefaultValue("runs/fedcollm")]
        public string Out { get; init; } = "runs/fedcollm";
        [CommandOption("--config <FILE>")] [Description("HOCON files replacing the defaults (local, sharding, serialization, persistence-sqlite); repeatable.")]
        public string[] Config { get; init; } = [];
        [CommandOption("--quick")] [Description("Tiny data and steps (a smoke test of the whole round in about a minute).")]
        public bool Quick { get; init; }
        [CommandOption("--data <DIR>")] [DefaultValue("data/wordnet")] public string Data { get; init; } = "data/wordnet";
        [CommandOption("--models <DIR>")] [DefaultValue("models")] public string Models { get; init; } = "models";
        [CommandOption("--threads <N>")] [DefaultValue(2)] public int Threads { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var wall = Stopwatch.StartNew();
        var plan = RunPlan.Create(s.Data, s.Models, s.Clients ?? RunPlan.DefaultClients(s.Quick), s.Rounds ?? RunPlan.DefaultRounds(s.Quick), s.Seed, s.Quick, s.Threads);
        Directory.CreateDirectory(s.Out);
        var config = LocalCluster.LoadConfig(s.Out, s.Config);
        var system = LocalCluster.CreateSystem(config);
        using var stop = new ConsoleStop(cancellation);
        try
        {
            using var steps = new FederationSteps(plan.Setup);
            var store = new DirectoryBlobStore(Path.Combine(s.Out, "blobs"));
            var runner = new LearningStepRunner(steps, store, plan.Server);
            var node = FederationNode.Start(system, new NodeOptions(plan.Spec.JobId, Path.Combine(s.Out, "blobs"), runner) { Clients = plan.Clients });

            var accepted = await node.Servers.Ask<JobAccepted>(new StartFederation(plan.Spec.JobId, plan.Spec), TimeSpan.FromMinutes(1), stop.Token);
            if (accepted.Outcome == Outcome.Rejected)
            {
                AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(accepted.Detail ?? "")}");
                return 2;
            }
            var before = (await node.Servers.Ask<JobStatus>(new GetJobStatus(plan.Spec.JobId), TimeSpan.FromMinutes(1), stop.Token)).State;
            bool alreadyFinished = before.Phase is RoundPhase.Completed or RoundPhase.Failed;
            Console.WriteLine(accepted.Outcome == Outcome.Accepted
                ? $"Started job {plan.Spec.JobId}: {plan.Clients.Count} clients ({string.Join(", ", plan.Spec.ClientIds)}), {plan.Spec.Rounds} round(s), seed {plan.Spec.Seed}."
                : alreadyFinished
                    ? $"Job {plan.Spec.JobId} in {LocalCluster.JournalPath(s.Out)} had already finished ({before.Phase}); its results:"
                    : $"Resuming job {plan.Spec.JobId} from {LocalCluster.JournalPath(s.Out)} at round {before.Round}, {before.Phase}.");

            var final = await Follow(node.Servers, plan.Spec.JobId, stop.Token);
            if (final is null)
            {
                Console.WriteLine($"Stopped. Run the same command again to resume from {LocalCluster.JournalPath(s.Out)}.");
                return 130;
            }
            return Conclude(final, store, plan.Setup, s.Out, wall.Elapsed);
        }
        finally
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
        }
    }

    /// <summary>Polls the job until it completes or fails, printing each phase change (one line each, so logs and
    /// the crash tests can follow) and live training progress. Returns null when cancelled.</summary>
    internal static async Task<RoundState?> Follow(IActorRef servers, string jobId, CancellationToken cancellation)
    {
        string? lastPhase = null;
        string? lastLive = null;
        var lastLiveAt = Stopwatch.StartNew();
        while (!cancellation.IsCancellationRequested)
        {
            JobStatus status;
            try
            {
                status = await servers.Ask<JobStatus>(new GetJobStatus(jobId), TimeSpan.FromSeconds(30), cancellation);
            }
            catch (OperationCanceledException) { return null; }
            catch (AskTimeoutException) { continue; }
            var state = status.State;
            var phase = $"round {state.Round}/{state.Job?.Rounds} attempt {state.Attempt} · {state.Phase}";
            if (phase != lastPhase)
            {
                Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {phase}");
                lastPhase = phase;
                if (state.History.Count > 0 && state.Phase == RoundPhase.ClientsTraining && state.Round == state.History[^1].Round + 1)
                    ResultsTable.PrintRound(state, state.History[^1]);
            }
            if (state.Phase is RoundPhase.Completed or RoundPhase.Failed)
            {
                if (state.FailureReason is not null) Console.WriteLine($"Job failed: {state.FailureReason}");
                return state;
            }
            var live = string.Join("  ", status.Live.Where(p => p.Round == state.Round && p.Phase == state.Phase).Select(p => $"{p.Worker} {p.Step}/{p.TotalSteps} loss {p.Loss:F3}"));
            if (live.Length > 0 && live != lastLive && lastLiveAt.Elapsed > TimeSpan.FromSeconds(5))
            {
                Console.WriteLine($"           {live}");
                lastLive = live;
                lastLiveAt.Restart();
            }
            try { await Task.Delay(500, cancellation); } catch (OperationCanceledException) { return null; }
        }
        return null;
    }

    /// <summary>What a finished (or failed) job leaves in <paramref name="outDir"/>: the final adapters as PEFT directories
    /// when this node's store holds them, report.json and report.md; prints the results table. Returns the exit code.</summary>
    internal static int Conclude(RoundState final, IBlobStore store, FederationSetup setup, string outDir, TimeSpan wall)
    {
        if (final.History.Count > 0 && store.Contains(final.History[^1].Slm) && store.Contains(final.History[^1].Llm))
            ExportFinalAdapters(final, store, setup, outDir);
        RunReport.Write(outDir, final, wall);
        ResultsTable.Print(final);
        Console.WriteLine($"Report: {Path.Combine(outDir, "report.md")} and report.json (wall {wall.TotalMinutes:F1} min).");
        return final.Phase == RoundPhase.Completed ? 0 : 1;
    }

    /// <summary>The final adapters as PEFT directories (adapter_model.safetensors is the committed blob, byte for byte).</summary>
    static void ExportFinalAdapters(RoundState state, IBlobStore store, FederationSetup setup, string outDir)
    {
        var last = state.History[^1];
        foreach (var (name, blob, kind) in new[] { ("slm", last.Slm, ModelKind.Slm), ("llm", last.Llm, ModelKind.Llm) })
        {
            var weights = AdapterWeights.FromBytes(store.Read(blob), blob.ToString());
            var config = new PeftAdapterConfig(setup.LoraOf(kind), FanInFanOut: true, BaseModelNameOrPath: setup.DirectoryOf(kind));
            PeftAdapterFile.Save(Path.Combine(outDir, "final", name), config, weights);
        }
    }
}

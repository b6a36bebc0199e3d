using System.ComponentModel;
using System.Diagnostics;
using FedCoLLM.Cli.Federation;
using FedCoLLM.Cli.Lab;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Chaos;

/// <summary>
/// <c>fedcollm chaos</c>: runs a small federation on a cluster of node processes (PostgreSQL journal) again and again —
/// in the multi-host lab where it can (root: a network namespace per node, restarts at the same address), else on
/// loopback — each time SIGKILLing one node at a random moment — the job's host, the aggregator, a client mid-training,
/// either end of an adapter transfer — and restarting it. Every trial must complete with adapters bit-identical to an
/// undisturbed run and a journal that accepted each client update exactly once per round. With
/// <c>--secure-aggregation</c> the job (and so the reference) runs secure aggregation, and the client kill strikes one
/// of its protocol steps instead of plain training.
/// </summary>
public sealed class ChaosCommand : AsyncCommand<ChaosCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--trials <N>")] [DefaultValue(4)] [Description("Trials; fault kinds take turns, so a multiple of 4 tries each equally often.")]
        public int Trials { get; init; } = 4;
        [CommandOption("--from-trial <N>")] [DefaultValue(1)] [Description("First trial to run (with the same --seed, trial N draws the same fault as in a full run: replays a failed trial).")]
        public int FromTrial { get; init; } = 1;
        [CommandOption("--seed <S>")] [DefaultValue(1L)] [Description("Chaos seed: which node dies when (the same seed replays the same faults).")]
        public long Seed { get; init; } = 1;
        [CommandOption("--out <DIR>")] [DefaultValue("runs/chaos")] [Description("chaos.md, chaos.json, the reference run and each trial's node logs.")]
        public string Out { get; init; } = "runs/chaos";
        [CommandOption("--clients <N>")] [DefaultValue(2)] public int Clients { get; init; } = 2;
        [CommandOption("--rounds <R>")] [DefaultValue(2)] public int Rounds { get; init; } = 2;
        [CommandOption("--federation-seed <S>")] [DefaultValue(7L)] [Description("The federation's seed (the same in every trial and the reference).")]
        public long FederationSeed { get; init; } = 7;
        [CommandOption("--restart-after <SECONDS>")] [DefaultValue(1.0)] [Description("Pause between the kill and the restart.")]
        public double RestartAfter { get; init; } = 1;
        [CommandOption("--trial-timeout <MINUTES>")] [DefaultValue(10.0)] public double TrialTimeout { get; init; } = 10;
        [CommandOption("--keep-databases")] [Description("Keep every trial's database (failed trials' are always kept).")]
        public bool KeepDatabases { get; init; }
        [CommandOption("--data <DIR>")] [DefaultValue("data/wordnet")] public string Data { get; init; } = "data/wordnet";
        [CommandOption("--loopback")] [Description("Run every node on this host's loopback (a port each) even where the multi-host lab can run (root, network namespaces).")]
        public bool Loopback { get; init; }
        [CommandOption("--secure-aggregation")] [Description("The job runs secure aggregation (no dropout tolerated: a killed client must resume its step); the client fault kills a client mid-protocol (client-secagg).")]
        public bool SecureAggregation { get; init; }
        [CommandOption("--kind <KIND>")] [Description("Kill only this kind in every trial (job-host, aggregator, client-training, transfer, client-secagg) instead of taking turns.")]
        public string? Kind { get; init; }

        /// <summary>The kind of <see cref="Kind"/>, or null when kinds take turns.</summary>
        public FaultKind? OnlyKind => Kind is null ? null : Enum.GetValues<FaultKind>().First(k => ChaosReport.Name(k) == Kind);

        public override ValidationResult Validate()
        {
            if (Trials < 1) return ValidationResult.Error("--trials must be at least 1.");
            if (FromTrial < 1 || FromTrial > Trials) return ValidationResult.Error("--from-trial must be between 1 and --trials.");
            if (Rounds < 1) return ValidationResult.Error("--rounds must be at least 1.");
            if (RestartAfter < 0) return ValidationResult.Error("--restart-after must be 0 or more seconds.");
            if (TrialTimeout <= 0) return ValidationResult.Error("--trial-timeout must be positive.");
            if (Kind is not null && Enum.GetValues<FaultKind>().All(k => ChaosReport.Name(k) != Kind))
                return ValidationResult.Error($"--kind {Kind}: expected one of {string.Join(", ", Enum.GetValues<FaultKind>().Select(ChaosReport.Name))}.");
            if (OnlyKind == FaultKind.ClientSecAgg && !SecureAggregation) return ValidationResult.Error("--kind client-secagg needs --secure-aggregation.");
            if (OnlyKind == FaultKind.ClientTraining && SecureAggregation) return ValidationResult.Error("--kind client-training: a secure-aggregation job trains inside its protocol; use --kind client-secagg.");
            return ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation) =>
        (await Run(s, cancellation)).ExitCode;

    /// <summary>What a chaos run did: its exit code (0: every trial passed), the trials, and the run's wall time.</summary>
    public sealed record RunOutcome(int ExitCode, IReadOnlyList<TrialResult> Trials, string Command, TimeSpan Wall);

    /// <summary>The whole run — reference, trials, chaos.md and chaos.json — for <c>fedcollm chaos</c> and the
    /// benchmarks that wrap it (<c>fedcollm bench failover</c>).</summary>
    public static async Task<RunOutcome> Run(Settings s, CancellationToken cancellation)
    {
        var labUnavailable = s.Loopback ? "--loopback" : LabNetwork.Unavailable() ?? LabPostgres.Unavailable();
        var admin = Environment.GetEnvironmentVariable("FEDCOLLM_POSTGRES");
        if (labUnavailable is not null && string.IsNullOrWhiteSpace(admin))
        {
            AnsiConsole.MarkupLine($"[red]The lab is not available ({Markup.Escape(labUnavailable)}) and FEDCOLLM_POSTGRES is not set:[/] loopback trials journal to PostgreSQL, one fresh database per trial. " +
                                   "Set it to an Npgsql connection string for a role with CREATEDB (.ci/run creates one: Host=127.0.0.1;Username=fedcollm;Password=fedcollm;Database=fedcollm).");
            return new RunOutcome(2, [], "", TimeSpan.Zero);
        }
        var wall = Stopwatch.StartNew();
        Directory.CreateDirectory(s.Out);
        var jobFile = Path.GetFullPath(Path.Combine(s.Out, "job.conf"));
        File.WriteAllText(jobFile, JobText(s.Clients, s.Rounds, s.FederationSeed, s.Data, secureAggregation: s.SecureAggregation));
        if (JobFiles.TryLoad(jobFile) is not { } spec) return new RunOutcome(2, [], "", TimeSpan.Zero);
        string[] planArgs = [jobFile, "--data-dir", Path.Combine(s.Data, "clients")];
        using var stop = new ConsoleStop(cancellation, handleSigterm: true);

        if (await Reference(planArgs, Path.Combine(s.Out, "reference"), spec.JobId, TimeSpan.FromMinutes(s.TrialTimeout)) is not { } reference) return new RunOutcome(1, [], "", wall.Elapsed);

        var clientIds = spec.ClientIds;
        LabNetwork? network = null;
        LabPostgres? postgres = null;
        var results = new List<TrialResult>();
        try
        {
            TrialSite site;
            if (labUnavailable is null && !OperatingSystem.IsWindows())
            {
                network = LabNetwork.Create(LabLayout.Hosts(clientIds), LabLayout.Aliases(clientIds));
                postgres = await LabPostgres.Start(network, Path.Combine(Path.GetFullPath(s.Out), "postgres"), stop.Token);
                site = new LabSite(network, postgres, pacedTransfers: true);
            }
            else site = new LoopbackSite(admin!);
            Console.WriteLine($"Trials run on {site.Describe}" + (labUnavailable is null or "--loopback" ? "." : $": the lab is not available here ({labUnavailable})."));
            var shared = new TrialContext(Path.GetFullPath(s.Out), site, jobFile, s.Data, clientIds, s.Rounds, reference,
                TimeSpan.FromSeconds(s.RestartAfter), TimeSpan.FromMinutes(s.TrialTimeout), s.KeepDatabases, s.SecureAggregation);
            for (var trial = s.FromTrial; trial <= s.Trials && !stop.Token.IsCancellationRequested; trial++)
            {
                var fault = ChaosFault.Draw(s.Seed, trial - 1, s.Rounds, s.Clients, s.SecureAggregation, s.OnlyKind);
                Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] trial {trial}/{s.Trials}: kill the {fault}");
                TrialResult result;
                try { result = await ChaosTrial.Run(trial, fault, shared, stop.Token); }
                catch (OperationCanceledException) { break; }
                results.Add(result);
                Console.WriteLine($"           killed {result.Victim ?? "nothing (the job ended first)"}{(result.KilledDuring is null ? "" : $" during {result.KilledDuring}")}; " +
                                  $"completed {result.Completed}, identical {result.Identical}, exactly once {result.JournalProblems.Count == 0}, " +
                                  $"kill → next transition {(result.KillToProgressSeconds is { } r ? $"{r:F1} s" : "—")}, {result.WallSeconds:F0} s" +
                                  (result.Passed ? "" : $"\n           FAILED: {string.Join("; ", result.JournalProblems.Append(result.Error ?? "").Where(p => p.Length > 0))}"));
            }
        }
        finally
        {
            postgres?.Dispose();
            network?.Dispose();
        }

        var command = $"fedcollm chaos --trials {s.Trials}{(s.FromTrial > 1 ? $" --from-trial {s.FromTrial}" : "")} --seed {s.Seed} --clients {s.Clients} --rounds {s.Rounds}{(s.SecureAggregation ? " --secure-aggregation" : "")}{(s.Kind is null ? "" : $" --kind {s.Kind}")}";
        ChaosReport.Write(s.Out, command, results, reference, wall.Elapsed);
        Console.WriteLine(ChaosReport.Summary(results));
        Console.WriteLine(ChaosReport.Recovery(results));
        Console.WriteLine($"Report: {Path.Combine(s.Out, "chaos.md")} and chaos.json.");
        var code = stop.Token.IsCancellationRequested ? 130 : results.Count == s.Trials - s.FromTrial + 1 && results.All(r => r.Passed) ? 0 : 1;
        return new RunOutcome(code, results, command, wall.Elapsed);
    }

    /// <summary>The undisturbed run every trial is compared with: <c>fedcollm run</c> of the job on the local
    /// single-process cluster; its final adapter hashes, or null (reported) when it failed.</summary>
    public static async Task<(string Slm, string Llm)?> Reference(string[] planArgs, string directory, string jobId, TimeSpan timeout)
    {
        Console.WriteLine($"Reference: the undisturbed run (fedcollm run {string.Join(' ', planArgs)}) …");
        var run = NodeProcess.Start("reference", NodeProcess.StartInfo(["run", .. planArgs, "--out", directory]));
        var code = await run.WaitForExit(timeout);
        if (code != 0)
        {
            run.Kill();
            Console.WriteLine(run.Output);
            AnsiConsole.MarkupLine("[red]The undisturbed reference run failed[/]; nothing to compare the trials with.");
            return null;
        }
        var reference = ChaosTrial.FinalHashes(Path.Combine(directory, jobId));
        Console.WriteLine($"Reference adapters: SLM {reference.Slm[..16]}…, LLM {reference.Llm[..16]}…");
        return reference;
    }

    /// <summary>The trials' job: the built-in quick job with the harness's clients, rounds and seed, one thread per node
    /// (several nodes share the machine), and the first N benchmark domains as clients, half of them a quorum. With
    /// secure aggregation no dropout is tolerated (t = 0, the only value 2 clients allow): a killed client is restarted,
    /// so its round must resume and aggregate every client, as the undisturbed run does; a step waits up to 2 min.</summary>
    public static string JobText(int clients, int rounds, long seed, string data, string id = "chaos", bool secureAggregation = false)
    {
        string[] domains = ["noun.animal", "noun.plant", "noun.food", "noun.body"];
        var enrolled = domains.Take(clients).ToArray();
        var evaluation = string.Join(", ", enrolled.Select(d => $"{{ name = \"{d}\", path = \"{data}/clients/{d}/test.jsonl\" }}"));
        return File.ReadAllText(RunCommand.QuickJob) + $"""

            job.id = "{id}"
            job.rounds = {rounds}
            job.seed = {seed}
            job.clients.enrolled = [{string.Join(", ", enrolled.Select(d => $"\"{d}\""))}]
            job.clients.quorum = {Math.Max(1, (enrolled.Length + 1) / 2)}
            job.data.evaluation.sets = [{evaluation}]
            job.compute.threads = 1
            """ + (secureAggregation ? """

            job.secure-aggregation = on
            job.secure-aggregation-dropouts = 0
            job.secure-aggregation-step-deadline = 2m
            """ : "");
    }
}

using System.ComponentModel;
using System.Diagnostics;
using FedCoLLM.Cli.Chaos;
using FedCoLLM.Cli.Federation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Lab;

/// <summary>
/// <c>fedcollm lab</c>: the multi-host lab on one machine. Every node of <see cref="LabTopology"/> (three servers, the
/// aggregator, a node per client) gets its own network namespace, address and hostname, with the arguments and
/// environment the Kubernetes manifests give its pod and the same port as every other node; PostgreSQL runs on its own
/// lab host. Then it runs the scenarios (<see cref="LabScenario"/>) and checks each as <c>fedcollm chaos</c> does:
/// completed, bit-identical to an undisturbed run, each update accepted exactly once. Needs root; everything it made is
/// torn down at the end, after a failure too.
/// </summary>
public sealed class LabCommand : AsyncCommand<LabCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--scenario <NAME>")] [Description("job, restarts, partition-job-host or partition-client; repeatable (default: all four, in that order).")]
        public string[] Scenarios { get; init; } = [];
        [CommandOption("--restarts <N>")] [DefaultValue(20)] [Description("Same-address restarts of server nodes in the restarts scenario.")]
        public int Restarts { get; init; } = 20;
        [CommandOption("--restart-after <SECONDS>")] [DefaultValue(0.0)] [Description("Pause between a kill and the restart at the same address.")]
        public double RestartAfter { get; init; }
        [CommandOption("--partition <SECONDS>")] [DefaultValue(25.0)] [Description("How long a partition lasts (more than failure detection, 10 s, plus the resolver's stable-after, 7 s, downs the node).")]
        public double Partition { get; init; } = 25;
        [CommandOption("--rounds <R>")] [DefaultValue(2)] public int Rounds { get; init; } = 2;
        [CommandOption("--clients <N>")] [DefaultValue(2)] public int Clients { get; init; } = 2;
        [CommandOption("--federation-seed <S>")] [DefaultValue(7L)] public long FederationSeed { get; init; } = 7;
        [CommandOption("--out <DIR>")] [DefaultValue("runs/lab")] [Description("lab.md, lab.json, the reference run and each scenario's node logs.")]
        public string Out { get; init; } = "runs/lab";
        [CommandOption("--data <DIR>")] [DefaultValue("data/wordnet")] public string Data { get; init; } = "data/wordnet";
        [CommandOption("--trial-timeout <MINUTES>")] [DefaultValue(15.0)] public double TrialTimeout { get; init; } = 15;

        public override ValidationResult Validate()
        {
            foreach (var name in Scenarios)
                try { LabTrial.Parse(name); }
                catch (ArgumentException e) { return ValidationResult.Error(e.Message); }
            if (Restarts < 1) return ValidationResult.Error("--restarts must be at least 1.");
            if (Clients is < 1 or > 4) return ValidationResult.Error("--clients must be between 1 and 4.");
            if (Rounds < 1) return ValidationResult.Error("--rounds must be at least 1.");
            return ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var why = OperatingSystem.IsWindows() ? "it needs Linux" : LabNetwork.Unavailable() ?? LabPostgres.Unavailable();
        if (why is not null || OperatingSystem.IsWindows())
        {
            AnsiConsole.MarkupLine($"[red]The lab cannot run here:[/] {Markup.Escape(why ?? "")}.");
            return 2;
        }
        var wall = Stopwatch.StartNew();
        var outDir = Path.GetFullPath(s.Out);
        Directory.CreateDirectory(outDir);
        var jobFile = Path.Combine(outDir, "job.conf");
        File.WriteAllText(jobFile, ChaosCommand.JobText(s.Clients, s.Rounds, s.FederationSeed, s.Data, id: "lab"));
        if (JobFiles.TryLoad(jobFile) is not { } spec) return 2;
        using var stop = new ConsoleStop(cancellation, handleSigterm: true);
        var clientData = Path.Combine(s.Data, "clients");
        if (await ChaosCommand.Reference([jobFile, "--data-dir", clientData], Path.Combine(outDir, "reference"), spec.JobId, TimeSpan.FromMinutes(s.TrialTimeout)) is not { } reference)
            return 1;

        var scenarios = s.Scenarios.Length > 0 ? s.Scenarios.Select(LabTrial.Parse).ToArray() : Enum.GetValues<LabScenario>();
        var options = new LabOptions(outDir, jobFile, s.Data, spec.ClientIds, s.Rounds, reference, s.Restarts,
            TimeSpan.FromSeconds(s.RestartAfter), TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(s.Partition), TimeSpan.FromMinutes(s.TrialTimeout));
        var results = new List<LabResult>();
        using (var network = LabNetwork.Create(LabLayout.Hosts(spec.ClientIds), LabLayout.Aliases(spec.ClientIds)))
        {
            Console.WriteLine($"Lab: {network.Hosts.Count} hosts on {LabNetwork.Subnet}.0/24 " +
                              $"({string.Join(", ", network.Hosts.Values.Select(h => $"{h.Name} {h.Address}"))}), every node on port {LabTopology.RemotingPort}.");
            using var postgres = await LabPostgres.Start(network, Path.Combine(outDir, "postgres"), stop.Token);
            var site = new LabSite(network, postgres, pacedTransfers: false);
            for (var i = 0; i < scenarios.Length && !stop.Token.IsCancellationRequested; i++)
            {
                Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] scenario {i + 1}/{scenarios.Length}: {LabTrial.Name(scenarios[i])}");
                LabResult result;
                try { result = await LabTrial.Run(i + 1, scenarios[i], options, site, stop.Token); }
                catch (OperationCanceledException) { break; }
                results.Add(result);
                Console.WriteLine("           " + LabReport.Line(result));
            }
        }
        var command = $"fedcollm lab {string.Join(' ', s.Scenarios.Select(n => $"--scenario {n}"))} --restarts {s.Restarts} --rounds {s.Rounds} --clients {s.Clients}".Replace("  ", " ");
        LabReport.Write(outDir, command, results, reference, wall.Elapsed);
        Console.WriteLine(LabReport.Summary(results));
        Console.WriteLine($"Report: {Path.Combine(outDir, "lab.md")} and lab.json.");
        if (stop.Token.IsCancellationRequested) return 130;
        return results.Count == scenarios.Length && results.All(r => r.Passed) ? 0 : 1;
    }
}

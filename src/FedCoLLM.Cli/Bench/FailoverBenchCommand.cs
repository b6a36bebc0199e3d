using System.ComponentModel;
using FedCoLLM.Cli.Chaos;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Bench;

/// <summary>
/// <c>fedcollm bench failover</c>: <c>fedcollm chaos --kind job-host</c> — every trial SIGKILLs the node hosting the job
/// at a drawn moment and restarts it — and the time from the kill to the job's next persisted phase transition,
/// with its breakdown (<see cref="FailoverBreakdown"/>), written as JSON (<see cref="FailoverSummary"/>).
/// </summary>
public sealed class FailoverBenchCommand : AsyncCommand<FailoverBenchCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--trials <N>")] [DefaultValue(30)] public int Trials { get; init; } = 30;
        [CommandOption("--seed <S>")] [DefaultValue(1L)] [Description("Chaos seed: which phase and moment each kill strikes.")]
        public long Seed { get; init; } = 1;
        [CommandOption("--rounds <R>")] [DefaultValue(2)] public int Rounds { get; init; } = 2;
        [CommandOption("--out <DIR>")] [DefaultValue("runs/bench-failover")] [Description("The chaos run's reports and node logs.")]
        public string Out { get; init; } = "runs/bench-failover";
        [CommandOption("--json <FILE>")] [DefaultValue("docs/bench-failover.json")] public string Json { get; init; } = "docs/bench-failover.json";
        [CommandOption("--loopback")] [Description("Every node on this host's loopback instead of the multi-host lab.")]
        public bool Loopback { get; init; }
        [CommandOption("--trial-timeout <MINUTES>")] [DefaultValue(10.0)] public double TrialTimeout { get; init; } = 10;

        public override Spectre.Console.ValidationResult Validate() =>
            Trials < 1 ? Spectre.Console.ValidationResult.Error("--trials must be at least 1.") : Spectre.Console.ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var before = FailoverSummary.LoadAverage();
        var chaos = new ChaosCommand.Settings
        {
            Trials = s.Trials, Seed = s.Seed, Rounds = s.Rounds, Out = s.Out, Loopback = s.Loopback, TrialTimeout = s.TrialTimeout, Kind = "job-host",
        };
        var run = await ChaosCommand.Run(chaos, cancellation);
        if (run.Trials.Count == 0) return run.ExitCode;
        var command = $"fedcollm bench failover --trials {s.Trials} --seed {s.Seed} --rounds {s.Rounds}{(s.Loopback ? " --loopback" : "")}";
        var summary = FailoverSummary.Build(run, command, before, FailoverSummary.LoadAverage());
        FailoverSummary.Write(s.Json, summary);
        Console.WriteLine(FailoverSummary.Text(summary));
        Console.WriteLine($"JSON: {s.Json}");
        return run.ExitCode;
    }
}

using System.ComponentModel;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Fuzz;

/// <summary><c>fedcollm fuzz</c>: hostile bytes at a node's remoting or HTTP port (a node and a peer started here, on
/// loopback); exits 0 when the node survived and the cluster is unchanged. docs/hostile-input.md records a long run.</summary>
public sealed class FuzzCommand : AsyncCommand<FuzzCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--target <PORT>")] [Description("remoting or http.")] [DefaultValue("remoting")]
        public string Target { get; init; } = "remoting";
        [CommandOption("--seconds <N>")] [Description("How long to send cases.")] [DefaultValue(60)]
        public int Seconds { get; init; } = 60;
        [CommandOption("--seed <S>")] [Description("Seeds the cases: the same seed sends the same sequence.")] [DefaultValue(1)]
        public int Seed { get; init; } = 1;
        [CommandOption("--cases <N>")] [Description("Stop after this many cases (default: only --seconds limits).")]
        public int? Cases { get; init; }
        [CommandOption("--out <DIR>")] [Description("The target node's run directory (journal, blobs).")] [DefaultValue("runs/fuzz")]
        public string Out { get; init; } = "runs/fuzz";

        public override Spectre.Console.ValidationResult Validate() =>
            Target is "remoting" or "http" ? Seconds > 0 ? Spectre.Console.ValidationResult.Success() : Spectre.Console.ValidationResult.Error("--seconds must be at least 1")
                : Spectre.Console.ValidationResult.Error($"--target {Target}: expected remoting or http");
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var options = new FuzzOptions(s.Target == "http" ? FuzzTarget.Http : FuzzTarget.Remoting, s.Seed, TimeSpan.FromSeconds(s.Seconds), s.Cases ?? int.MaxValue, s.Out);
        var report = await FuzzRun.RunAsync(options, cancellation);
        foreach (var line in report.Lines()) Console.WriteLine(line);
        return report.Survived ? 0 : 1;
    }
}

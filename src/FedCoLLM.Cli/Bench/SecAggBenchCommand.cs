using System.ComponentModel;
using System.Text.Json;
using FedCoLLM.Learning.SecureAggregation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Bench;

/// <summary>
/// `fedcollm bench secagg`: extra bytes per client and time per round of secure aggregation next to plain FedAvg,
/// at K = 4, 16 and 64 in one run (the measurement itself is <see cref="SecAggBenchmark"/>).
/// </summary>
public sealed class SecAggBenchCommand : Command<SecAggBenchCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--clients <LIST>")] [DefaultValue("4,16,64")] [Description("Comma-separated client counts K.")]
        public string Clients { get; init; } = "4,16,64";
        [CommandOption("--params <N>")] [DefaultValue(32768)]
        [Description("Adapter parameters (default 32 768: LoRA r = 8 on c_attn of the 4-layer d = 256 bench model).")]
        public int Parameters { get; init; } = 32768;
        [CommandOption("--reps <R>")] [DefaultValue(3)] [Description("Repetitions per K; medians are reported.")]
        public int Reps { get; init; } = 3;
        [CommandOption("--json <FILE>")] [Description("Also write the rows as one JSON object.")]
        public string? Json { get; init; }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var ks = s.Clients.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToList();
        var rows = new List<SecAggBenchmark.Row>();
        foreach (int k in ks)
        {
            // t = ⌊(K − 1)/3⌋ tolerated dropouts (threshold above 2K/3); one run without dropouts and one with t clients gone after sharing
            // keys, the case that makes the server recompute pairwise masks.
            int t = (k - 1) / 3;
            foreach (int drop in t > 0 ? new[] { 0, t } : [0])
            {
                var row = SecAggBenchmark.Measure(new(k, t, drop, s.Parameters, s.Reps));
                rows.Add(row);
                AnsiConsole.MarkupLine($"K = {k,2}, t = {t,2}, dropped {drop,2}: extra up {row.ExtraUploadBytesPerClient / 1024:F1} KiB, extra down {row.ExtraDownloadBytesPerClient / 1024:F1} KiB per client " +
                    $"(plain {row.PlainUploadBytesPerClient / 1024.0:F1} KiB); round {row.SecAggRoundSecondsSequential:F3} s sequential, " +
                    $"{row.SecAggCriticalPathSeconds:F3} s critical path vs plain FedAvg {row.PlainRoundSeconds * 1000:F2} ms; max |Δ| vs plain {row.MaxAbsDifferenceFromPlainFedAvg:E2}");
            }
        }
        if (s.Json is not null)
        {
            var doc = new
            {
                command = "fedcollm " + string.Join(' ', context.Arguments),
                date = DateTime.UtcNow.ToString("yyyy-MM-dd"),
                machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}",
                rows,
            };
            File.WriteAllText(s.Json, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        }
        return 0;
    }
}

using System.ComponentModel;
using System.Text.Json;
using FedCoLLM.Actors.Blobs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Bench;

/// <summary>
/// `fedcollm bench transfer`: blob fetches through the production path (the bulk channel, and the remoting stream it falls
/// back to) next to a raw socket copy of the same bytes, with TLS on and off (the measurement is <see cref="TransferBenchmark"/>).
/// </summary>
public sealed class TransferBenchCommand : AsyncCommand<TransferBenchCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--sizes <LIST>")] [DefaultValue("32K,4M,64M")] [Description("Comma-separated blob sizes (suffix K or M: KiB, MiB).")]
        public string Sizes { get; init; } = "32K,4M,64M";
        [CommandOption("--reps <R>")] [DefaultValue(5)] [Description("Interleaved repetitions per size and transport; medians are reported.")]
        public int Reps { get; init; } = 5;
        [CommandOption("--tls <LIST>")] [DefaultValue("on,off")] [Description("Rows with mutual TLS on, off, or both (on,off).")]
        public string Tls { get; init; } = "on,off";
        [CommandOption("--chunk-size <LIST>")] [Description("Comma-separated chunk sizes in bytes, compared interleaved in the same run (default: BlobServerActor.DefaultChunkSize).")]
        public string? ChunkSize { get; init; }
        [CommandOption("--window <CHUNKS>")] [Description("Stream-ref window (chunks in flight) on both nodes (default: the configured one).")]
        public int? Window { get; init; }
        [CommandOption("--out <DIR>")] [DefaultValue("runs/bench-transfer")] [Description("Scratch directory (certificates, two blob stores).")]
        public string Out { get; init; } = "runs/bench-transfer";
        [CommandOption("--json <FILE>")] [Description("Also write the rows as one JSON object.")]
        public string? Json { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var sizes = s.Sizes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseSize).ToList();
        var modes = s.Tls.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(m => m switch
        {
            "on" => true,
            "off" => false,
            _ => throw new ArgumentException($"--tls {s.Tls}: expected on, off or on,off."),
        }).ToList();
        IReadOnlyList<int> chunk = s.ChunkSize is null ? [BlobServerActor.DefaultChunkSize]
            : s.ChunkSize.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToList();
        var loadBefore = File.ReadAllText("/proc/loadavg").Trim();
        var rows = new List<TransferRow>();
        foreach (var tls in modes)
            rows.AddRange(await TransferBenchmark.RunAsync(new TransferBenchOptions(sizes, s.Reps, tls, chunk, Path.Combine(s.Out, tls ? "tls" : "plaintext")) { Window = s.Window },
                line => AnsiConsole.WriteLine(line)));
        var loadAfter = File.ReadAllText("/proc/loadavg").Trim();
        foreach (var r in rows)
            AnsiConsole.WriteLine($"{r.Transport,-9} {r.Bytes,12:N0} B, {(r.Path == "stream" ? $"stream, {r.ChunkSize,6} B chunks" : $"{r.Path,-24}")}: fetch {r.Seconds * 1000,9:F1} ms {r.MbPerS,8:F1} MB/s | raw {r.TcpSeconds * 1000,9:F1} ms {r.TcpMbPerS,8:F1} MB/s | over raw {r.ThroughputOverTcp:F2} | fetch: {r.FetchAllocatedPerByte:F1} B allocated/B, GC paused {r.FetchGcPauseFraction:P0}, {r.FetchGen2Collections} gen2 (raw: {r.TcpAllocatedPerByte:F1} B/B, {r.TcpGcPauseFraction:P0})");
        if (s.Json is not null)
        {
            var doc = new
            {
                command = "fedcollm " + string.Join(' ', context.Arguments),
                date = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'"),
                machine = $"{Environment.ProcessorCount} cores, {CpuModel()}, {Environment.OSVersion}, .NET {Environment.Version}",
                load_average_before = loadBefore,
                load_average_after = loadAfter,
                nodes = "a holder and two receivers (bulk channel on; off, so remoting streams) as ActorSystems in one process over real Akka.Remote (DotNetty TCP) on 127.0.0.1, cluster members, hocon/cluster.conf + serialization.conf",
                chunk_sizes = chunk,
                default_chunk_size = BlobServerActor.DefaultChunkSize,
                window = rows.FirstOrDefault()?.Window,
                rows,
            };
            File.WriteAllText(s.Json, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        }
        return 0;
    }

    static long ParseSize(string text)
    {
        var t = text.ToUpperInvariant();
        long unit = t.EndsWith('K') ? 1024 : t.EndsWith('M') ? 1024 * 1024 : 1;
        return long.Parse(unit == 1 ? t : t[..^1]) * unit;
    }

    static string CpuModel() =>
        File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?" : "?";
}

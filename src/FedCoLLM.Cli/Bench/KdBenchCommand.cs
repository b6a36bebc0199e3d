using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Losses;
using Spectre.Console;
using Spectre.Console.Cli;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FedCoLLM.Cli.Bench;

public sealed class KdBenchSettings : CommandSettings
{
    [CommandOption("--positions <N>"), Description("Answer positions N = B·T (default 2048).")]
    public int Positions { get; init; } = 2048;

    [CommandOption("--vocab <V>"), Description("Vocabulary size V (default 50257, GPT-2).")]
    public int Vocab { get; init; } = 50257;

    [CommandOption("-k|--topk <K>"), Description("Teacher top-k (default 128).")]
    public int TopK { get; init; } = 128;

    [CommandOption("--temperature <T>"), Description("Distillation temperature (default 2, so the 1/T paths are exercised).")]
    public double Temperature { get; init; } = 2.0;

    [CommandOption("--reps <R>"), Description("Timed repetitions per method, after one warm-up (default 5).")]
    public int Reps { get; init; } = 5;

    [CommandOption("--threads <N>"), Description("libtorch intra-op threads (default 2).")]
    public int Threads { get; init; } = 2;

    [CommandOption("--quick"), Description("Reduced size (N = 256, V = 8192, 3 reps) that runs in seconds.")]
    public bool Quick { get; init; }

    [CommandOption("--no-loop"), Description("Skip the per-position loop row (FATE's B13 construction).")]
    public bool NoLoop { get; init; }

    [CommandOption("--json <FILE>"), Description("Also write the results as one JSON object.")]
    public string? Json { get; init; }
}

/// <summary>
/// Times forward+backward of the KD loss w.r.t. the student logits [N,V] for: ours (fused sparse node), ours
/// through plain autograd ops, the dense reconstruction FATE's trainer does (vectorised scatter into a dense
/// [N,V] teacher, full-vocab KL), and that dense version with FATE's per-position construction loop (B13).
/// </summary>
public sealed class KdBenchCommand : Command<KdBenchSettings>
{
    private sealed record Row(string Method, double MedianMs, double MinMs, double MedianCpuMs, long? PeakRssGrowthBytes, double Loss);


    public override int Execute(CommandContext context, KdBenchSettings s, CancellationToken cancellationToken)
    {
        int n = s.Quick ? 256 : s.Positions, v = s.Quick ? 8192 : s.Vocab, k = s.TopK, reps = s.Quick ? 3 : s.Reps;
        new ComputeOptions(Threads: s.Threads).Apply();
        var options = new DistillationOptions(Temperature: s.Temperature, TopK: k);
        var loss = new TopKDistillationLoss(options);

        using var student0 = randn(n, v).mul_(3.0);
        using var teacherDense = randn(n, v).mul_(3.0);
        var (idx, tlog) = TopKTeacher.Extract(teacherDense, k);
        using var _i = idx; using var _t = tlog;

        var methods = new List<(string Name, Func<Tensor, Tensor> Loss)>
        {
            ("ours: sparse top-k, fused node", z => loss.Compute(z, idx, tlog)),
            ("ours: sparse top-k, composed ops", z => loss.ComputeComposed(z, idx, tlog)),
            ("dense teacher, vectorised scatter", z => DenseKl(z, idx, tlog, s.Temperature, perPositionLoop: false)),
        };
        if (!s.NoLoop)
            methods.Add(("dense teacher, per-position loop (FATE B13)", z => DenseKl(z, idx, tlog, s.Temperature, perPositionLoop: true)));

        AnsiConsole.MarkupLine($"[grey]N = {n}, V = {v}, k = {k}, T = {s.Temperature}, threads = {s.Threads}, reps = {reps} (+1 warm-up); float32 CPU[/]");
        var losses = methods.Select(m => RunOnce(student0, m.Loss)).ToArray();     // warm-up
        var wall = methods.Select(_ => new List<double>()).ToArray();
        var cpu = methods.Select(_ => new List<double>()).ToArray();
        var peaks = new long?[methods.Count];
        // Round-robin over methods so that load from other processes hits all of them alike.
        for (int r = 0; r < reps; r++)
            for (int m = 0; m < methods.Count; m++)
            {
                var sw = new Stopwatch();
                var cpu0 = TimeSpan.Zero;
                long? p = ProcessMemory.PeakGrowthBytes(() =>
                {
                    cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                    sw.Start();
                    losses[m] = RunOnce(student0, methods[m].Loss);
                    sw.Stop();
                    cpu[m].Add((Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds);
                });
                wall[m].Add(sw.Elapsed.TotalMilliseconds);
                peaks[m] = peaks[m] is null ? p : Math.Max(peaks[m]!.Value, p ?? 0);
            }
        var rows = methods.Select((m, i) => new Row(m.Name, Statistics.Median(wall[i]), wall[i].Min(), Statistics.Median(cpu[i]), peaks[i], losses[i])).ToList();

        double ours = rows[0].MedianMs, dense = rows[2].MedianMs;
        double speedup = dense / ours;
        double? loopSpeedup = rows.Count > 3 ? rows[3].MedianMs / ours : null;

        var table = new Table().Expand().AddColumns("method", "median wall ms", "min wall ms", "median CPU ms", "peak RSS growth MiB", "× ours (time)", "loss");
        foreach (var r in rows)
            table.AddRow(Markup.Escape(r.Method), r.MedianMs.ToString("F0"), r.MinMs.ToString("F0"), r.MedianCpuMs.ToString("F0"),
                r.PeakRssGrowthBytes is long b ? (b / 1048576.0).ToString("F0") : "n/a",
                (r.MedianMs / ours).ToString("F1"), r.Loss.ToString("G6"));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"speedup (dense vectorised / ours) = [bold]{speedup:F1}×[/]" + (loopSpeedup is double ls ? $"; per-position loop / ours = {ls:F1}×" : ""));
        AnsiConsole.MarkupLine("[grey]" + Markup.Escape("Time: forward + backward w.r.t. the student logits (autograd.grad), median of reps, methods interleaved; CPU = process user+sys time. Memory: peak growth of process RSS " +
            "(VmHWM after − VmRSS before, HWM reset via /proc/self/clear_refs) during one forward+backward, including the [N,V] gradient; " +
            $"the student logits themselves ({(long)n * v * 4 / 1048576.0:F0} MiB) exist beforehand and are not counted.") + "[/]");

        if (s.Json is { } path)
        {
            var json = new
            {
                n, v, k, temperature = s.Temperature, threads = s.Threads, reps,
                memory_measure = "peak process RSS growth during one forward+backward (bytes), Linux VmHWM after clear_refs",
                speedup,
                loop_speedup = loopSpeedup,
                methods = rows.Select(r => new { method = r.Method, median_ms = r.MedianMs, min_ms = r.MinMs, median_cpu_ms = r.MedianCpuMs, peak_rss_growth_bytes = r.PeakRssGrowthBytes, loss = r.Loss }),
            };
            File.WriteAllText(path, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }

    private static double RunOnce(Tensor student0, Func<Tensor, Tensor> lossOf)
    {
        using var scope = NewDisposeScope();
        var z = student0.detach().requires_grad_(true);   // fresh leaf sharing storage: no grad accumulation
        var l = lossOf(z);
        // autograd.grad rather than backward(): a leaf's AccumulateGrad would clone a gradient still referenced
        // from .NET, which never happens when the logits come out of an LM head (the realistic case).
        var g = autograd.grad([l], [z]);
        double value = l.item<float>();
        foreach (var t in g) t.Dispose();
        return value;
    }

    /// <summary>
    /// What FATE's trainer does, minus its bugs: rebuild a dense teacher distribution P [N,V] (softmax over the
    /// top-k, zeros elsewhere), then the full-vocabulary KL(P ‖ softmax(z/T)), mean over positions.
    /// </summary>
    private static Tensor DenseKl(Tensor z, Tensor idx, Tensor tlog, double t, bool perPositionLoop)
    {
        long n = z.shape[0], v = z.shape[1];
        var index = idx.to(ScalarType.Int64);
        var probs = tlog.div(t).softmax(1);
        var dense = zeros(n, v);
        if (perPositionLoop)
        {
            // FATE recovery_logits: one scatter per position, softmax recomputed per position.
            for (long j = 0; j < n; j++)
            {
                using var vals = tlog.select(0, j);
                using var e = vals.div(t).exp();
                using var p = e.div(e.sum());
                using var row = dense.select(0, j);
                using var ij = index.select(0, j);
                row.scatter_(0, ij, p);
            }
        }
        else
        {
            dense.scatter_(1, index, probs);
        }
        var logQ = z.div(t).log_softmax(1);
        return F.kl_div(logQ, dense, reduction: nn.Reduction.Sum, log_target: false).div(n);
    }
}

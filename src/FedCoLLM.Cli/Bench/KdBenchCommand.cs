using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Models;
using Spectre.Console;
using Spectre.Console.Cli;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FedCoLLM.Cli.Bench;

public sealed class KdBenchSettings : CommandSettings
{
    [CommandOption("--positions <N>"), Description("Answer positions N = B·T (default 2048).")]
    public int Positions { get; init; } = 2048;

    [CommandOption("--hidden <H>"), Description("Hidden size H of the LM head (default 768, GPT-2 small).")]
    public int Hidden { get; init; } = 768;

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

    [CommandOption("--chunk-mib <LIST>"), Description("Extra fused-head chunk budgets to time, MiB, comma-separated (e.g. 8,128).")]
    public string? ChunkMib { get; init; }

    [CommandOption("--quick"), Description("Reduced sizes (N = 256, H = 128, V = 8192; SFT V = 8192, 2 layers) that run in seconds.")]
    public bool Quick { get; init; }

    [CommandOption("--no-logits"), Description("Skip the loss-only rows (KD w.r.t. given logits: fused node, composed ops, dense teacher).")]
    public bool NoLogits { get; init; }

    [CommandOption("--no-loop"), Description("Skip the per-position loop row (FATE's B13 construction).")]
    public bool NoLoop { get; init; }

    [CommandOption("--no-sft"), Description("Skip the SFT-step comparison (full logits vs answer rows + fused CE).")]
    public bool NoSft { get; init; }

    [CommandOption("--sft-steps <N>"), Description("Timed SFT steps per variant and round (default 4; 2 rounds, 1 warm-up step each).")]
    public int SftSteps { get; init; } = 4;

    [CommandOption("--json <FILE>"), Description("Also write the results as one JSON object.")]
    public string? Json { get; init; }
}

/// <summary>
/// `fedcollm bench kd`, three parts, each timing its methods interleaved (round-robin, medians):
/// <list type="number">
/// <item>LM head + top-k KD, forward + backward from hidden states [N, H] and head weight [V, H]: the fused chunked
/// node (<see cref="FusedHeadLoss"/>) against the floor — a plain matmul h·Wᵀ + log_softmax forward and backward on
/// the same shapes — and against the unfused path (dense logits, then the KD node). <c>over_floor</c> = fused ÷ floor.
/// Run with the head frozen (LoRA training: gradients w.r.t. h only) and trainable (w.r.t. h and W).</item>
/// <item>The KD loss alone w.r.t. given logits [N, V] (the earlier comparison with FATE's dense reconstruction).</item>
/// <item>One LoRA SFT step at V = 50 257 before (full [B, T, V] logits, select, CE) and after (answer rows, fused CE).</item>
/// </list>
/// Memory is the peak growth of process RSS during one forward + backward (<see cref="ProcessMemory"/>).
/// </summary>
public sealed class KdBenchCommand : Command<KdBenchSettings>
{
    private sealed record Row(string Method, double MedianMs, double MinMs, double MedianCpuMs, long? PeakRssGrowthBytes, double Loss);

    public override int Execute(CommandContext context, KdBenchSettings s, CancellationToken cancellationToken)
    {
        int n = s.Quick ? 256 : s.Positions, h = s.Quick ? 128 : s.Hidden, v = s.Quick ? 8192 : s.Vocab, k = s.TopK;
        int reps = s.Quick ? 3 : s.Reps;
        new ComputeOptions(Threads: s.Threads).Apply();
        var load = new List<string> { LoadAverage() };
        AnsiConsole.MarkupLine($"[grey]N = {n}, H = {h}, V = {v}, k = {k}, T = {s.Temperature}, threads = {s.Threads}, reps = {reps} (+1 warm-up); float32 CPU; load average {load[0]}[/]");

        var head = HeadPart(n, h, v, k, s.Temperature, reps, ParseChunks(s.ChunkMib));
        object? logits = s.NoLogits ? null : LogitsPart(n, v, k, s.Temperature, reps, s.NoLoop);
        object? sft = s.NoSft ? null : SftStepBench.Run(s.Quick, s.Threads, s.SftSteps);
        load.Add(LoadAverage());
        AnsiConsole.MarkupLine($"[grey]load average at the end: {load[1]} (1, 5, 15 min; 2 cores)[/]");

        if (s.Json is { } path)
        {
            var json = new
            {
                benchmark = "kd",
                date = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'"),
                load_average_start_end = load,
                n, h, v, k, temperature = s.Temperature, threads = s.Threads, reps,
                memory_measure = "peak process RSS growth during one forward+backward (bytes), Linux VmHWM after clear_refs; inputs allocated beforehand are not counted",
                over_floor = head.OverFloorFrozen,
                over_floor_trainable_head = head.OverFloorTrainable,
                head = head.Json,
                logits,
                sft,
            };
            File.WriteAllText(path, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }

    static long[] ParseChunks(string? list) =>
        string.IsNullOrWhiteSpace(list) ? [] : list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(x => long.TryParse(x, out var mib) && mib > 0 ? mib << 20
                : throw new ArgumentException($"--chunk-mib: '{x}' is not a positive whole number of MiB (e.g. --chunk-mib 8,128)."))
            .ToArray();

    static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "n/a"; }
    }

    private sealed record HeadResult(double OverFloorFrozen, double OverFloorTrainable, object Json);

    /// <summary>Part 1: the LM head + KD from hidden states, against the floor and the unfused path.</summary>
    static HeadResult HeadPart(int n, int h, int v, int k, double t, int reps, long[] extraChunks)
    {
        var kd = new DistillationOptions(Temperature: t, TopK: k);
        using var hidden0 = randn(n, h);
        // N(0, 0.05²) weights give logits of standard deviation ≈ 0.05·√H ≈ 1.4 at H = 768, a trained head's scale.
        using var weight0 = randn(v, h).mul_(0.05);
        using var floorGrad = randn(n, v);                   // the floor's upstream gradient, allocated once
        Tensor idx, tlog;
        using (var teacherDense = randn(n, v).mul_(3.0)) (idx, tlog) = TopKTeacher.Extract(teacherDense, k);
        using var _i = idx; using var _t = tlog;

        var configs = new List<object>();
        double overFrozen = double.NaN, overTrainable = double.NaN;
        foreach (bool trainableHead in new[] { false, true })
        {
            string label = trainableHead ? "trainable head (grad w.r.t. h and W)" : "frozen head (grad w.r.t. h only; LoRA training)";
            var defaultProfile = new FusedHeadProfile();
            var methods = new List<(string Name, Func<Tensor, Tensor, Tensor> Loss, bool Floor)>
            {
                ("floor: h·Wᵀ + log_softmax, forward + backward", (x, w) => x.mm(w.t()).log_softmax(1), true),
                ("unfused: dense logits h·Wᵀ, then the KD node", (x, w) => new TopKDistillationLoss(kd).Compute(x.mm(w.t()), idx, tlog), false),
                ($"fused: chunked head + KD, in-forward gradients, {FusedHeadOptions.DefaultChunkBytes >> 20} MiB chunks (production)",
                    (x, w) => FusedHeadLoss.Distillation(new HeadOperands(x, w), idx, tlog, kd, FusedHeadOptions.Default with { Profile = defaultProfile }), false),
                ($"fused: chunked head + KD, recompute in backward, {FusedHeadOptions.DefaultChunkBytes >> 20} MiB chunks",
                    (x, w) => FusedHeadLoss.Distillation(new HeadOperands(x, w), idx, tlog, kd, new FusedHeadOptions(Backward: FusedHeadBackward.Recompute)), false),
            };
            foreach (long bytes in extraChunks)
                methods.Add(($"fused: in-forward gradients, {bytes >> 20} MiB chunks",
                    (x, w) => FusedHeadLoss.Distillation(new HeadOperands(x, w), idx, tlog, kd, new FusedHeadOptions(bytes)), false));

            AnsiConsole.MarkupLine($"[bold]LM head + top-k KD, {Markup.Escape(label)}[/]");
            var rows = Measure(methods.Select(m => (m.Name, (Func<double>)(() => HeadOnce(hidden0, weight0, trainableHead, m.Loss, m.Floor ? floorGrad : null)))).ToList(), reps);
            double over = rows[2].MedianMs / rows[0].MedianMs;
            if (trainableHead) overTrainable = over; else overFrozen = over;
            Print(rows, rows[0].MedianMs, "× floor");
            AnsiConsole.MarkupLine($"over_floor ({(trainableHead ? "trainable" : "frozen")} head) = [bold]{over:F2}[/] (goal ≤ 1.3); " +
                Markup.Escape($"peak RSS growth fused / unfused = {Ratio(rows[2].PeakRssGrowthBytes, rows[1].PeakRssGrowthBytes)}; logits [N, V] = {(long)n * v * 4 / 1048576.0:F0} MiB"));
            double calls = reps + 1;
            var profile = new
            {
                calls_profiled = calls,
                chunks_per_call = defaultProfile.Chunks / calls,
                logit_matmuls_ms = defaultProfile.LogitMatmuls.TotalMilliseconds / calls,
                softmax_ms = defaultProfile.Softmax.TotalMilliseconds / calls,
                gathers_and_scatters_ms = defaultProfile.GathersAndScatters.TotalMilliseconds / calls,
                gradient_matmuls_ms = defaultProfile.GradientMatmuls.TotalMilliseconds / calls,
            };
            AnsiConsole.MarkupLine($"[grey]fused (production) per call: logit matmuls {profile.logit_matmuls_ms:F0} ms, softmax {profile.softmax_ms:F0} ms, " +
                $"gathers/scatters {profile.gathers_and_scatters_ms:F0} ms, gradient matmuls {profile.gradient_matmuls_ms:F0} ms, {profile.chunks_per_call:F0} chunks[/]");
            configs.Add(new
            {
                head = trainableHead ? "trainable" : "frozen",
                over_floor = over,
                unfused_over_floor = rows[1].MedianMs / rows[0].MedianMs,
                peak_fused_over_unfused = rows[2].PeakRssGrowthBytes is long a && rows[1].PeakRssGrowthBytes is long b && b > 0 ? (double)a / b : (double?)null,
                logits_bytes = (long)n * v * 4,
                fused_profile = profile,
                methods = RowsJson(rows),
            });
        }
        return new HeadResult(overFrozen, overTrainable, configs);
    }

    static double HeadOnce(Tensor hidden0, Tensor weight0, bool trainableHead, Func<Tensor, Tensor, Tensor> lossOf, Tensor? upstream)
    {
        using var scope = NewDisposeScope();
        var x = hidden0.detach().requires_grad_(true);
        var w = trainableHead ? weight0.detach().requires_grad_(true) : weight0;
        var output = lossOf(x, w);
        Tensor[] inputs = trainableHead ? [x, w] : [x];
        var grads = upstream is null ? autograd.grad([output], inputs) : autograd.grad([output], inputs, [upstream]);
        double value = upstream is null ? output.item<float>() : double.NaN;
        foreach (var g in grads) g.Dispose();
        return value;
    }

    static string Ratio(long? a, long? b) => a is long x && b is long y && y > 0 ? $"{(double)x / y:F3}" : "n/a";

    /// <summary>Part 2: the KD loss alone w.r.t. given student logits [N, V].</summary>
    static object LogitsPart(int n, int v, int k, double t, int reps, bool noLoop)
    {
        var options = new DistillationOptions(Temperature: t, TopK: k);
        var loss = new TopKDistillationLoss(options);
        using var student0 = randn(n, v).mul_(3.0);
        Tensor idx, tlog;
        using (var teacherDense = randn(n, v).mul_(3.0)) (idx, tlog) = TopKTeacher.Extract(teacherDense, k);
        using var _i = idx; using var _t = tlog;
        var methods = new List<(string Name, Func<Tensor, Tensor> Loss)>
        {
            ("ours: sparse top-k, fused node", z => loss.Compute(z, idx, tlog)),
            ("ours: sparse top-k, composed ops", z => loss.ComputeComposed(z, idx, tlog)),
            ("dense teacher, vectorised scatter", z => DenseKl(z, idx, tlog, t, perPositionLoop: false)),
        };
        if (!noLoop)
            methods.Add(("dense teacher, per-position loop (FATE B13)", z => DenseKl(z, idx, tlog, t, perPositionLoop: true)));
        AnsiConsole.MarkupLine("[bold]KD loss alone, w.r.t. given logits [[N, V]][/]");
        var rows = Measure(methods.Select(m => (m.Name, (Func<double>)(() => LogitsOnce(student0, m.Loss)))).ToList(), reps);
        Print(rows, rows[0].MedianMs, "× ours");
        double speedup = rows[2].MedianMs / rows[0].MedianMs;
        double? loopSpeedup = rows.Count > 3 ? rows[3].MedianMs / rows[0].MedianMs : null;
        return new { speedup, loop_speedup = loopSpeedup, methods = RowsJson(rows) };
    }

    /// <summary>Round-robin over the methods, one warm-up each, so that load from other processes hits all alike.</summary>
    static List<Row> Measure(IReadOnlyList<(string Name, Func<double> Run)> methods, int reps)
    {
        var losses = methods.Select(m => m.Run()).ToArray();     // warm-up
        var wall = methods.Select(_ => new List<double>()).ToArray();
        var cpu = methods.Select(_ => new List<double>()).ToArray();
        var peaks = new long?[methods.Count];
        for (int r = 0; r < reps; r++)
            for (int m = 0; m < methods.Count; m++)
            {
                var sw = new Stopwatch();
                var cpu0 = TimeSpan.Zero;
                long? p = ProcessMemory.PeakGrowthBytes(() =>
                {
                    cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                    sw.Start();
                    losses[m] = methods[m].Run();
                    sw.Stop();
                    cpu[m].Add((Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds);
                });
                wall[m].Add(sw.Elapsed.TotalMilliseconds);
                peaks[m] = peaks[m] is null ? p : Math.Max(peaks[m]!.Value, p ?? 0);
            }
        return methods.Select((m, i) => new Row(m.Name, Statistics.Median(wall[i]), wall[i].Min(), Statistics.Median(cpu[i]), peaks[i], losses[i])).ToList();
    }

    static void Print(IReadOnlyList<Row> rows, double reference, string ratioName)
    {
        var table = new Table().Expand().AddColumns("method", "median wall ms", "min wall ms", "median CPU ms", "peak RSS growth MiB", ratioName, "loss");
        foreach (var r in rows)
            table.AddRow(Markup.Escape(r.Method), r.MedianMs.ToString("F0"), r.MinMs.ToString("F0"), r.MedianCpuMs.ToString("F0"),
                r.PeakRssGrowthBytes is long b ? (b / 1048576.0).ToString("F0") : "n/a",
                (r.MedianMs / reference).ToString("F2"), double.IsNaN(r.Loss) ? "" : r.Loss.ToString("G6"));
        AnsiConsole.Write(table);
    }

    static object RowsJson(IEnumerable<Row> rows) =>
        rows.Select(r => new { method = r.Method, median_ms = r.MedianMs, min_ms = r.MinMs, median_cpu_ms = r.MedianCpuMs, peak_rss_growth_bytes = r.PeakRssGrowthBytes, loss = double.IsNaN(r.Loss) ? (double?)null : r.Loss }).ToList();

    private static double LogitsOnce(Tensor student0, Func<Tensor, Tensor> lossOf)
    {
        using var scope = NewDisposeScope();
        var z = student0.detach().requires_grad_(true);   // fresh leaf sharing storage: no grad accumulation
        var l = lossOf(z);
        // autograd.grad rather than backward(): a leaf's AccumulateGrad would clone a gradient still referenced
        // from .NET, which never happens when the logits come out of an LM head (the realistic case).
        var g = autograd.grad([l], [z]);
        double value = l.item<float>();
        foreach (var x in g) x.Dispose();
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

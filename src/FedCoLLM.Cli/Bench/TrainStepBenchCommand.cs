using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Benchmarking;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Bench;

/// <summary>
/// `fedcollm bench train-step`: tokens/s of one LoRA SFT step (forward, answer CE, backward, clipping,
/// AdamW) on the same GPT-2-shaped model in TorchSharp (our TrainingLoop) and in PyTorch, same threads.
/// The two sides run interleaved, because timings on shared machines drift by tens of percent, each both with and
/// without transparent huge pages (THP decides the step time at V = 50 257), and no ratio is reported when PyTorch
/// runs on the reference BLAS.
/// </summary>
public sealed class TrainStepBenchCommand : Command<TrainStepBenchCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--quick")] [Description("A reduced model that finishes in well under a minute.")]
        public bool Quick { get; init; }
        [CommandOption("--json <FILE>")] [Description("Also write the figures as one JSON object.")]
        public string? Json { get; init; }
        [CommandOption("--threads <N>")] [DefaultValue(2)] public int Threads { get; init; }
        [CommandOption("--vocab <V>")] [DefaultValue(50257)] public int Vocab { get; init; }
        [CommandOption("--layers <N>")] [DefaultValue(4)] public int Layers { get; init; }
        [CommandOption("--width <D>")] [DefaultValue(256)] public int Width { get; init; }
        [CommandOption("--heads <H>")] [DefaultValue(4)] public int Heads { get; init; }
        [CommandOption("--batch <B>")] [DefaultValue(8)] public int Batch { get; init; }
        [CommandOption("--seq <T>")] [DefaultValue(128)] public int Seq { get; init; }
        [CommandOption("--steps <N>")] [DefaultValue(10)] [Description("Timed steps per round.")]
        public int Steps { get; init; }
        [CommandOption("--rounds <N>")] [DefaultValue(2)] [Description("Interleaved TorchSharp/PyTorch rounds.")]
        public int Rounds { get; init; }
        [CommandOption("--lora-r <R>")] [DefaultValue(8)] public int LoraRank { get; init; }
        [CommandOption("--init <INIT>")] [DefaultValue("hf")]
        [Description("Both sides' weights: hf (Hugging Face's GPT-2 init, N(0, 0.02), as a real GPT-2's scale) or torch-default (N(0, 1) embeddings; the tied head's softmax then underflows into denormals).")]
        public string Init { get; init; } = "hf";
        [CommandOption("--parts")]
        [Description("Instead of the ratio: where each side's step goes (batch, body forward, head + loss, head backward, body backward, clip + AdamW), both with huge pages, at --threads and 1 thread.")]
        public bool Parts { get; init; }
        [CommandOption("--ours-only-json <FILE>", IsHidden = true)]
        [Description("Internal: run only the TorchSharp side and write its step seconds (the THP-off child).")]
        public string? OursOnlyJson { get; init; }
        [CommandOption("--python <PATH>")] [DefaultValue("/usr/bin/python3")]
        [Description("A Python with PyTorch (Debian: apt-get install python3-torch libopenblas0-pthread).")]
        public string Python { get; init; } = "/usr/bin/python3";
    }

    const int WarmupSteps = 3;

    sealed record Shape(int Vocab, int Layers, int Width, int Heads, int Batch, int Seq, int Steps, int Rounds, string Init);

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var shape = s.Quick
            ? new Shape(4096, 2, 128, 4, 4, 64, 8, 1, s.Init)
            : new Shape(s.Vocab, s.Layers, s.Width, s.Heads, s.Batch, s.Seq, s.Steps, s.Rounds, s.Init);
        if (s.Init is not ("hf" or "torch-default"))
            throw new ArgumentException($"--init {s.Init}: expected hf or torch-default.");
        if (s.OursOnlyJson is not null)
        {
            // Child mode: our side alone, in a process whose libtorch started with the caller's THP setting.
            File.WriteAllText(s.OursOnlyJson, JsonSerializer.Serialize(TorchSharpStepSeconds(shape, s.Threads, s.LoraRank)));
            return 0;
        }
        if (s.Parts)
            return Parts(s, shape);
        var ours = new Dictionary<string, List<double>> { ["thp_on"] = [], ["thp_off"] = [] };
        var theirs = new Dictionary<string, List<double>> { ["thp_on"] = [], ["thp_off"] = [] };
        var pytorchInfo = new Dictionary<string, JsonNode>();
        var oursThreads = new Dictionary<string, int>();
        var theirsByHead = new[] { "thp_on", "thp_off" }.ToDictionary(t => t, _ => PyTorchHeads.ToDictionary(h => h, _ => new List<double>()));
        for (int round = 0; round < shape.Rounds; round++)
        {
            foreach (var thp in new[] { "thp_on", "thp_off" })
            {
                AnsiConsole.MarkupLine($"[grey]round {round + 1}/{shape.Rounds}: TorchSharp, {thp}…[/]");
                // THP on is how we ship (NativeEnvironment sets THP_MEM_ALLOC_ENABLE=1 before libtorch loads), so it runs
                // in this process; THP off needs a libtorch that started without it: a child process. Our side gets the
                // same choice of thread count as PyTorch's (--threads and 1), and keeps the faster.
                var ourRuns = new[] { s.Threads, 1 }.Distinct()
                    .Select(threads => (Threads: threads, Seconds: thp == "thp_on" ? TorchSharpStepSeconds(shape, threads, s.LoraRank) : OursInChild(s, shape, threads)))
                    .ToArray();
                var bestOurs = ourRuns.MinBy(r => Statistics.Median(r.Seconds));
                ours[thp].AddRange(bestOurs.Seconds);
                oursThreads[thp] = bestOurs.Threads;
                AnsiConsole.MarkupLine($"[grey]round {round + 1}/{shape.Rounds}: PyTorch, {thp}…[/]");
                // PyTorch's own best setting: with OpenBLAS, torch threads = 1 often beats torch threads = N (two thread
                // pools oversubscribe the cores); and the LM head on the answer rows only, as ours, beats Hugging Face's
                // full [B, T, V] logits. Every combination runs and the fastest is kept.
                var runs = PyTorchHeads.SelectMany(head => new[] { s.Threads, 1 }.Distinct()
                    .Select(threads => PyTorchRun(shape, threads, s.LoraRank, s.Python, thp == "thp_on", head))).ToArray();
                foreach (var head in PyTorchHeads)
                    theirsByHead[thp][head].Add(runs.Where(r => r["head"]!.GetValue<string>() == head).Min(r => r["step_seconds_median"]!.GetValue<double>()));
                var best = runs.MinBy(r => r["step_seconds_median"]!.GetValue<double>())!;
                if (round == 0) RefuseReferenceBlas(best);
                pytorchInfo[thp] = best;
                theirs[thp].Add(best["step_seconds_median"]!.GetValue<double>());
            }
        }
        double tokens = shape.Batch * shape.Seq;
        double Tps(List<double> xs) => tokens / Statistics.Median(xs);
        var blasKind = Blas(pytorchInfo["thp_on"]).Kind;

        var table = new Table().AddColumns("implementation", "THP", "step (ms, median)", "tokens/s", "AnonHugePages (PyTorch)");
        foreach (var thp in new[] { "thp_on", "thp_off" })
        {
            table.AddRow($"TorchSharp 0.107 (libtorch 2.10; best: {oursThreads[thp]} thread(s))", thp, $"{Statistics.Median(ours[thp]) * 1000:F1}", $"{Tps(ours[thp]):F0}", "");
            table.AddRow($"PyTorch {pytorchInfo[thp]["torch"]} ({blasKind}; best: {pytorchInfo[thp]["threads"]} thread(s), {pytorchInfo[thp]["head"]} head)", thp, $"{Statistics.Median(theirs[thp]) * 1000:F1}",
                $"{Tps(theirs[thp]):F0}", $"{pytorchInfo[thp]["anon_huge_pages_kb"]} kB");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"GPT-2 shape: vocab {shape.Vocab}, {shape.Layers} layers, d {shape.Width}, {shape.Heads} heads, batch {shape.Batch}×{shape.Seq}, LoRA r={s.LoraRank} on c_attn, {s.Threads} threads");
        AnsiConsole.MarkupLine($"torchsharp_over_pytorch: THP on both sides [bold]{Tps(ours["thp_on"]) / Tps(theirs["thp_on"]):F2}[/], "
            + $"THP off both sides [bold]{Tps(ours["thp_off"]) / Tps(theirs["thp_off"]):F2}[/]");

        if (s.Json is not null)
        {
            JsonObject PerThp(Func<string, JsonNode?> value) => new() { ["thp_on"] = value("thp_on"), ["thp_off"] = value("thp_off") };
            JsonArray Array(IEnumerable<double> xs) => new(xs.Select(x => (JsonNode)x).ToArray());
            var json = new JsonObject
            {
                ["benchmark"] = "train-step",
                ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd"),
                ["threads"] = s.Threads,
                ["shape"] = JsonSerializer.SerializeToNode(shape),
                ["lora_rank"] = s.LoraRank,
                ["pytorch_blas"] = new JsonObject { ["kind"] = blasKind.ToString().ToLowerInvariant(), ["libraries"] = Blas(pytorchInfo["thp_on"]).Libraries.DeepClone() },
                ["thp_note"] = "TorchSharp: THP_MEM_ALLOC_ENABLE=1 (on) or =0 (off). PyTorch 1.13's allocator has no THP_MEM_ALLOC_ENABLE (libc10 1.13 lacks the string); "
                               + "on = THP_MEM_ALLOC_ENABLE=1 plus GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (glibc madvises its mmap'd blocks), off = neither; anon_huge_pages_kb verifies.",
                ["torchsharp_step_seconds"] = PerThp(t => Array(ours[t])),
                ["torchsharp_best_threads"] = PerThp(t => oursThreads[t]),
                ["pytorch_step_seconds_medians"] = PerThp(t => Array(theirs[t])),
                ["torchsharp_tokens_per_second"] = PerThp(t => Tps(ours[t])),
                ["pytorch_tokens_per_second"] = PerThp(t => Tps(theirs[t])),
                ["pytorch_tokens_per_second_by_head"] = PerThp(t => new JsonObject(PyTorchHeads.Select(h => KeyValuePair.Create(h, (JsonNode?)Tps(theirsByHead[t][h]))))),
                ["pytorch_best_head"] = PerThp(t => pytorchInfo[t]["head"]?.DeepClone()),
                ["torchsharp_over_pytorch"] = PerThp(t => Tps(ours[t]) / Tps(theirs[t])),
                ["pytorch_anon_huge_pages_kb"] = PerThp(t => pytorchInfo[t]["anon_huge_pages_kb"]?.DeepClone()),
                ["pytorch"] = PerThp(t => Without(pytorchInfo[t], "torch_config")),
                ["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
            };
            File.WriteAllText(s.Json, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        }
        return 0;
    }

    /// <summary>`--parts`: each side's step split at the same places (<see cref="SftStepParts"/>, pytorch_train_step.py --parts),
    /// huge pages on both sides, PyTorch with the answer-row head, each thread count; the sides alternate round by round and
    /// each part's median over the rounds' medians is reported.</summary>
    static int Parts(Settings s, Shape shape)
    {
        var threadCounts = new[] { s.Threads, 1 }.Distinct().ToArray();
        var runs = new Dictionary<string, List<Dictionary<string, double>>>();
        for (int round = 0; round < shape.Rounds; round++)
            foreach (var threads in threadCounts)
            {
                AnsiConsole.MarkupLine($"[grey]round {round + 1}/{shape.Rounds}, {threads} thread(s): TorchSharp, then PyTorch…[/]");
                Add($"torchsharp_{threads}", SftStepParts.Measure(shape.Vocab, shape.Layers, shape.Width, shape.Heads, shape.Batch, shape.Seq, s.LoraRank, threads, WarmupSteps, shape.Steps, shape.Init == "hf"));
                var py = PyTorchRun(shape, threads, s.LoraRank, s.Python, hugePages: true, "answer-rows", parts: true);
                Add($"pytorch_{threads}", py["parts"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>()));
            }
        void Add(string key, Dictionary<string, double> parts) => (runs.TryGetValue(key, out var list) ? list : runs[key] = []).Add(parts);

        var medians = runs.ToDictionary(r => r.Key, r => r.Value[0].Keys.ToDictionary(n => n, n => Statistics.Median(r.Value.Select(p => p[n]).ToList())));
        var columns = medians.Keys.Order(StringComparer.Ordinal).ToArray();
        var table = new Table().AddColumn("part (ms, median)");
        foreach (var c in columns) table.AddColumn(c.Replace('_', ' ') + " thr");
        foreach (var n in SftStepParts.Names.Append("total").Concat(SftStepParts.HeadNames))
            table.AddRow([n, .. columns.Select(c => n == "total" ? $"{SftStepParts.Names.Sum(p => medians[c][p]) * 1000:F1}"
                : medians[c].TryGetValue(n, out var x) ? $"{x * 1000:F1}" : "")]);
        AnsiConsole.Write(table);
        if (s.Json is not null)
        {
            var json = new JsonObject
            {
                ["benchmark"] = "train-step --parts",
                ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'"),
                ["shape"] = JsonSerializer.SerializeToNode(shape),
                ["lora_rank"] = s.LoraRank,
                ["pages"] = "huge pages on both sides (TorchSharp THP_MEM_ALLOC_ENABLE=1; PyTorch also GLIBC_TUNABLES=glibc.malloc.hugetlb=1)",
                ["pytorch_head"] = "answer-rows",
                ["part_seconds_median"] = JsonSerializer.SerializeToNode(medians),
                ["part_seconds_per_round"] = JsonSerializer.SerializeToNode(runs),
                ["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
            };
            File.WriteAllText(s.Json, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }

    static JsonNode Without(JsonNode node, string key)
    {
        var copy = node.DeepClone().AsObject();
        copy.Remove(key);
        return copy;
    }

    static (BlasKind Kind, JsonArray Libraries) Blas(JsonNode run)
    {
        var libraries = run["blas_libraries"]?.AsArray() ?? [];
        var kind = BlasLibrary.Classify(libraries.Select(l => l!.GetValue<string>()), run["torch_config"]?.GetValue<string>());
        return (kind, libraries);
    }

    /// <summary>Stops the bench (exit non-zero, no ratio) when PyTorch runs on the reference BLAS.</summary>
    static void RefuseReferenceBlas(JsonNode run)
    {
        var (kind, libraries) = Blas(run);
        if (BlasLibrary.RefusalFor(kind, libraries.Select(l => l!.GetValue<string>())) is { } why)
            throw new InvalidOperationException(why);
    }

    /// <summary>Our side in a child `fedcollm bench train-step` whose libtorch starts with THP_MEM_ALLOC_ENABLE=0.</summary>
    static List<double> OursInChild(Settings s, Shape shape, int threads)
    {
        var output = Path.Combine(Path.GetTempPath(), $"fedcollm-train-step-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        var entry = Environment.GetCommandLineArgs()[0];
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (entry.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) psi.ArgumentList.Add(entry); // `dotnet fedcollm.dll`
        foreach (var a in new[] { "bench", "train-step", "--ours-only-json", output, "--threads", $"{threads}", "--lora-r", $"{s.LoraRank}",
                     "--vocab", $"{shape.Vocab}", "--layers", $"{shape.Layers}", "--width", $"{shape.Width}", "--heads", $"{shape.Heads}",
                     "--batch", $"{shape.Batch}", "--seq", $"{shape.Seq}", "--steps", $"{shape.Steps}", "--init", shape.Init })
            psi.ArgumentList.Add(a);
        psi.Environment["THP_MEM_ALLOC_ENABLE"] = "0";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start the TorchSharp child process");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        try
        {
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"the TorchSharp THP-off child failed (exit {p.ExitCode}):\n{stderr}\n{stdout.Result}");
            return JsonSerializer.Deserialize<List<double>>(File.ReadAllText(output))!;
        }
        finally { File.Delete(output); }
    }

    static List<double> TorchSharpStepSeconds(Shape shape, int threads, int loraRank)
    {
        var compute = new ComputeOptions("cpu", threads, Seed: 0);
        compute.Apply();
        using var model = new Gpt2Model(new Gpt2Config(shape.Vocab, shape.Seq, shape.Width, shape.Layers, shape.Heads,
            EmbdPdrop: 0, AttnPdrop: 0, ResidPdrop: 0));
        if (shape.Init == "hf") model.InitializeForPretraining();
        LoraAdapter.Apply(model, LoraConfig.ForModelType("gpt2", loraRank, alpha: 16, dropout: 0), seed: 0);
        var examples = RandomSftExamples.Make(shape.Batch * (WarmupSteps + shape.Steps), shape.Seq, shape.Vocab);
        var stamps = new StepClock();
        SupervisedFineTuning.Train(model, examples, new TrainingSettings
        {
            BatchSize = shape.Batch, MaxLength = shape.Seq, Optimizer = new OptimizerSettings { LearningRate = 1e-4 },
        }, compute, stamps);
        return stamps.Durations.Skip(WarmupSteps).ToList();
    }

    /// <summary>How the PyTorch side applies the LM head (pytorch_train_step.py --head).</summary>
    static readonly string[] PyTorchHeads = ["full", "answer-rows"];

    static JsonNode PyTorchRun(Shape shape, int threads, int loraRank, string python, bool hugePages, string head, bool parts = false)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Bench", "pytorch_train_step.py");
        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var a in new[] { script, "--vocab", $"{shape.Vocab}", "--ctx", $"{shape.Seq}", "--d", $"{shape.Width}",
                     "--layers", $"{shape.Layers}", "--heads", $"{shape.Heads}", "--batch", $"{shape.Batch}",
                     "--seq", $"{shape.Seq}", "--steps", $"{shape.Steps}", "--warmup", $"{WarmupSteps}",
                     "--threads", $"{threads}", "--lora-r", $"{loraRank}", "--head", head, "--init", shape.Init })
            psi.ArgumentList.Add(a);
        if (parts) psi.ArgumentList.Add("--parts");
        // PyTorch 1.13's CPU allocator predates THP_MEM_ALLOC_ENABLE (it is set anyway, for newer PyTorch); it takes its
        // large blocks from glibc, which madvises them for huge pages with this tunable (glibc ≥ 2.35).
        psi.Environment.Remove("THP_MEM_ALLOC_ENABLE");
        psi.Environment.Remove("GLIBC_TUNABLES");
        if (hugePages)
        {
            psi.Environment["THP_MEM_ALLOC_ENABLE"] = "1";
            psi.Environment["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=1";
        }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {python}");
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"the PyTorch reference failed (exit {p.ExitCode}); is PyTorch installed for {python}? " +
                                                $"(Debian: apt-get install python3-torch libopenblas0-pthread)\n{stderr}");
        return JsonNode.Parse(stdout)!;
    }
}

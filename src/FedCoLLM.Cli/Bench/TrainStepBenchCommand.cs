using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCoLLM.Learning;
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
/// The two sides run interleaved, because timings on shared machines drift by tens of percent.
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
        [CommandOption("--python <PATH>")] [DefaultValue("/usr/bin/python3")]
        [Description("A Python with PyTorch (Debian: apt-get install python3-torch libopenblas0-pthread).")]
        public string Python { get; init; } = "/usr/bin/python3";
    }

    const int WarmupSteps = 3;

    sealed record Shape(int Vocab, int Layers, int Width, int Heads, int Batch, int Seq, int Steps, int Rounds);

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var shape = s.Quick
            ? new Shape(4096, 2, 128, 4, 4, 64, 8, 1)
            : new Shape(s.Vocab, s.Layers, s.Width, s.Heads, s.Batch, s.Seq, s.Steps, s.Rounds);
        var ours = new List<double>();
        var theirs = new List<double>();
        JsonNode? pytorchInfo = null;
        for (int round = 0; round < shape.Rounds; round++)
        {
            AnsiConsole.MarkupLine($"[grey]round {round + 1}/{shape.Rounds}: TorchSharp…[/]");
            ours.AddRange(TorchSharpStepSeconds(shape, s.Threads, s.LoraRank));
            AnsiConsole.MarkupLine($"[grey]round {round + 1}/{shape.Rounds}: PyTorch…[/]");
            // PyTorch's own best setting: with OpenBLAS, torch threads = 1 often beats torch threads = N
            // (two thread pools oversubscribe the cores), so both are run and the faster is kept.
            var runs = new[] { PyTorchRun(shape, s.Threads, s.LoraRank, s.Python), PyTorchRun(shape, 1, s.LoraRank, s.Python) };
            pytorchInfo = runs.MinBy(r => r["step_seconds_median"]!.GetValue<double>())!;
            theirs.Add(pytorchInfo["step_seconds_median"]!.GetValue<double>());
        }
        double tokens = shape.Batch * shape.Seq;
        double oursTps = tokens / Statistics.Median(ours), theirsTps = tokens / Statistics.Median(theirs);

        var table = new Table().AddColumns("implementation", "step (ms, median)", "tokens/s");
        table.AddRow("TorchSharp 0.107 (libtorch 2.10)", $"{Statistics.Median(ours) * 1000:F1}", $"{oursTps:F0}");
        table.AddRow($"PyTorch {pytorchInfo?["torch"]} (best thread setting)", $"{Statistics.Median(theirs) * 1000:F1}", $"{theirsTps:F0}");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"GPT-2 shape: vocab {shape.Vocab}, {shape.Layers} layers, d {shape.Width}, {shape.Heads} heads, batch {shape.Batch}×{shape.Seq}, LoRA r={s.LoraRank} on c_attn, {s.Threads} threads");
        AnsiConsole.MarkupLine($"torchsharp_over_pytorch = [bold]{oursTps / theirsTps:F2}[/]");

        if (s.Json is not null)
        {
            var json = new JsonObject
            {
                ["benchmark"] = "train-step",
                ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd"),
                ["threads"] = s.Threads,
                ["shape"] = JsonSerializer.SerializeToNode(shape),
                ["lora_rank"] = s.LoraRank,
                ["torchsharp_step_seconds"] = new JsonArray(ours.Select(x => (JsonNode)x).ToArray()),
                ["pytorch_step_seconds_medians"] = new JsonArray(theirs.Select(x => (JsonNode)x).ToArray()),
                ["torchsharp_tokens_per_second"] = oursTps,
                ["pytorch_tokens_per_second"] = theirsTps,
                ["torchsharp_over_pytorch"] = oursTps / theirsTps,
                ["pytorch"] = pytorchInfo?.DeepClone(),
            };
            File.WriteAllText(s.Json, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }

    static List<double> TorchSharpStepSeconds(Shape shape, int threads, int loraRank)
    {
        var compute = new ComputeOptions("cpu", threads, Seed: 0);
        compute.Apply();
        using var model = new Gpt2Model(new Gpt2Config(shape.Vocab, shape.Seq, shape.Width, shape.Layers, shape.Heads,
            EmbdPdrop: 0, AttnPdrop: 0, ResidPdrop: 0));
        LoraAdapter.Apply(model, LoraConfig.ForModelType("gpt2", loraRank, alpha: 16, dropout: 0), seed: 0);
        var random = new Random(0);
        int half = shape.Seq / 2;
        var examples = Enumerable.Range(0, shape.Batch * (WarmupSteps + shape.Steps))
            .Select(_ => new TokenizedExample(RandomIds(random, half, shape.Vocab), RandomIds(random, shape.Seq - half, shape.Vocab)))
            .ToList();
        var stamps = new StepClock();
        SupervisedFineTuning.Train(model, examples, new TrainingSettings
        {
            BatchSize = shape.Batch, MaxLength = shape.Seq, Optimizer = new OptimizerSettings { LearningRate = 1e-4 },
        }, compute, stamps);
        return stamps.Durations.Skip(WarmupSteps).ToList();
    }

    static int[] RandomIds(Random random, int n, int vocab) => Enumerable.Range(0, n).Select(_ => random.Next(vocab)).ToArray();

    static JsonNode PyTorchRun(Shape shape, int threads, int loraRank, string python)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Bench", "pytorch_train_step.py");
        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var a in new[] { script, "--vocab", $"{shape.Vocab}", "--ctx", $"{shape.Seq}", "--d", $"{shape.Width}",
                     "--layers", $"{shape.Layers}", "--heads", $"{shape.Heads}", "--batch", $"{shape.Batch}",
                     "--seq", $"{shape.Seq}", "--steps", $"{shape.Steps}", "--warmup", $"{WarmupSteps}",
                     "--threads", $"{threads}", "--lora-r", $"{loraRank}" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {python}");
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"the PyTorch reference failed (exit {p.ExitCode}); is PyTorch installed for {python}? " +
                                                $"(Debian: apt-get install python3-torch libopenblas0-pthread)\n{stderr}");
        return JsonNode.Parse(stdout)!;
    }

    /// <summary>Synchronous IProgress that timestamps every optimizer step (Progress&lt;T&gt; would post asynchronously).</summary>
    sealed class StepClock : IProgress<TrainingProgress>
    {
        readonly Stopwatch clock = Stopwatch.StartNew();
        double last;
        public List<double> Durations { get; } = new();

        public void Report(TrainingProgress value)
        {
            double now = clock.Elapsed.TotalSeconds;
            Durations.Add(now - last);
            last = now;
        }
    }
}

using System.Diagnostics;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Training;
using Spectre.Console;
using static TorchSharp.torch;

namespace FedCoLLM.Cli.Bench;

/// <summary>
/// Part 3 of `fedcollm bench kd`: one LoRA SFT step of the production <see cref="TrainingLoop"/> on the GPT-2 shape of
/// `bench train-step` (4 layers, d = 256, 4 heads, batch 8 × 128, half prompt and half answer, V = 50 257), with the
/// loss taken two ways: before — full [B, T, V] logits, then the answer rows, then CE (the path before issue 15);
/// after — the answer rows of the hidden states, then the fused chunked head + CE (<see cref="SupervisedFineTuning.AnswerLoss"/>).
/// The two alternate, round by round; tokens/s is B·T over the median step time, memory the peak RSS growth of a run.
/// </summary>
static class SftStepBench
{
    sealed record Shape(int Vocab, int Layers, int Width, int Heads, int Batch, int Seq);

    public static object Run(bool quick, int threads, int steps)
    {
        var shape = quick ? new Shape(8192, 2, 128, 4, 4, 64) : new Shape(50257, 4, 256, 4, 8, 128);
        const int rounds = 2, warmup = 1;
        var compute = new ComputeOptions("cpu", threads, Seed: 0);
        var variants = new (string Name, Func<ForwardPass, Tensor> Loss)[]
        {
            ("before: full [B, T, V] logits, select answer rows, CE", pass => AnswerCrossEntropy.Mean(pass.Logits(), pass.Batch.Labels)),
            ("after: answer rows of the hidden states, fused chunked head + CE", SupervisedFineTuning.AnswerLoss),
        };
        int half = shape.Seq / 2;
        var examples = RandomSftExamples.Make(shape.Batch * (warmup + steps), shape.Seq, shape.Vocab);
        var durations = variants.Select(_ => new List<double>()).ToArray();
        var peaks = new long?[variants.Length];
        var losses = new double[variants.Length];
        AnsiConsole.MarkupLine($"[bold]LoRA SFT step, GPT-2 shape: V = {shape.Vocab}, {shape.Layers} layers, d = {shape.Width}, batch {shape.Batch} × {shape.Seq} ({shape.Seq - half} answer tokens per row)[/]");
        for (int round = 0; round < rounds; round++)
            for (int i = 0; i < variants.Length; i++)
            {
                // A fresh model per run (same seed, same weights): both variants start from the same state.
                compute.Apply();
                using var model = new Gpt2Model(new Gpt2Config(shape.Vocab, shape.Seq, shape.Width, shape.Layers, shape.Heads,
                    EmbdPdrop: 0, AttnPdrop: 0, ResidPdrop: 0));
                LoraAdapter.Apply(model, LoraConfig.ForModelType("gpt2", 8, alpha: 16, dropout: 0), seed: 0);
                var clock = new StepClock();
                TrainingReport? report = null;
                long? peak = ProcessMemory.PeakGrowthBytes(() =>
                    report = TrainingLoop.Run("bench-sft", model, examples, new TrainingSettings
                    {
                        BatchSize = shape.Batch, MaxLength = shape.Seq, MaxSteps = warmup + steps,
                        Optimizer = new OptimizerSettings { LearningRate = 1e-4 },
                    }, compute, variants[i].Loss, clock));
                durations[i].AddRange(clock.Durations.Skip(warmup));
                peaks[i] = Math.Max(peaks[i] ?? 0, peak ?? 0);
                losses[i] = report!.StepLosses[0];
            }
        double tokens = shape.Batch * shape.Seq;
        var table = new Table().AddColumns("SFT loss path", "step ms (median)", "tokens/s", "peak RSS growth MiB", "first-step loss");
        for (int i = 0; i < variants.Length; i++)
            table.AddRow(Markup.Escape(variants[i].Name), $"{Statistics.Median(durations[i]) * 1000:F0}", $"{tokens / Statistics.Median(durations[i]):F0}",
                peaks[i] is long p ? $"{p / 1048576.0:F0}" : "n/a", $"{losses[i]:G6}");
        AnsiConsole.Write(table);
        double speedup = Statistics.Median(durations[0]) / Statistics.Median(durations[1]);
        AnsiConsole.MarkupLine($"tokens/s after ÷ before = [bold]{speedup:F2}[/]; peak RSS growth after ÷ before = " +
            (peaks[0] is long b && peaks[1] is long a && b > 0 ? $"{(double)a / b:F2}" : "n/a"));
        return new
        {
            shape, lora_rank = 8, rounds, steps_per_round = steps, warmup_steps = warmup,
            answer_tokens_per_batch = shape.Batch * (shape.Seq - half),
            tokens_per_second_after_over_before = speedup,
            variants = variants.Select((v, i) => new
            {
                variant = v.Name,
                step_seconds = durations[i],
                step_seconds_median = Statistics.Median(durations[i]),
                tokens_per_second = tokens / Statistics.Median(durations[i]),
                peak_rss_growth_bytes = peaks[i],
                first_step_loss = losses[i],
            }).ToList(),
        };
    }
}

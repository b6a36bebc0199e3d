using System.ComponentModel;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Pretraining;
using FedCoLLM.Learning.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Models;

/// <summary><c>fedcollm pretrain --preset llm|slm</c>: pre-trains a built-in model pair on a benchmark's corpus
/// (data/wordnet or data/skills).
/// Interrupted runs (Ctrl-C, kill) resume from the last checkpoint when the same command is run again.</summary>
public sealed class PretrainCommand : Command<PretrainCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--preset <NAME>")] [Description("llm or slm.")]
        public string Preset { get; init; } = "";
        [CommandOption("--steps <N>")] [Description("Optimizer steps (default: the preset's).")]
        public int? Steps { get; init; }
        [CommandOption("--width <N>")] [Description("Hidden size (default: the preset's); recorded in training.json.")]
        public int? Width { get; init; }
        [CommandOption("--layers <N>")] [Description("Transformer blocks (default: the preset's).")]
        public int? Layers { get; init; }
        [CommandOption("--heads <N>")] [Description("Attention heads (default: the preset's); must divide --width.")]
        public int? Heads { get; init; }
        [CommandOption("--batch-size <N>")] [Description("Sequences per optimizer step (default: the preset's).")]
        public int? BatchSize { get; init; }
        [CommandOption("--learning-rate <LR>")] [Description("Peak learning rate (default: the preset's).")]
        public double? LearningRate { get; init; }
        [CommandOption("--out <DIR>")] [Description("Output model directory (default: models/BENCHMARK-<preset>, BENCHMARK the --data folder's name).")]
        public string? Out { get; init; }
        [CommandOption("--data <DIR>")] [DefaultValue("data/wordnet")] [Description("Benchmark directory with corpus/ and tokenizer/.")]
        public string Data { get; init; } = "data/wordnet";
        [CommandOption("--seed <S>")] [DefaultValue(42L)] public long Seed { get; init; }
        [CommandOption("--threads <N>")] [DefaultValue(2)] public int Threads { get; init; }
        [CommandOption("--device <D>")] [DefaultValue("cpu")] [Description("cpu or cuda.")]
        public string Device { get; init; } = "cpu";
        [CommandOption("--checkpoint-every <N>")] [DefaultValue(100)] public int CheckpointEvery { get; init; }

        public override ValidationResult Validate() =>
            Preset is "llm" or "slm" ? ValidationResult.Success() : ValidationResult.Error("--preset must be llm or slm");
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var preset = PretrainPreset.Named(s.Preset);
        preset = preset.With(s.Steps, s.Width, s.Layers, s.Heads, s.LearningRate, s.BatchSize);
        var output = s.Out ?? Path.Combine("models", $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(s.Data))}-{preset.Name}");
        if (File.Exists(Path.Combine(output, Pretrainer.HistoryFile)))
        {
            AnsiConsole.MarkupLine($"[green]{Markup.Escape(output)} is already trained[/] (see {Pretrainer.HistoryFile}); delete it to train again.");
            return 0;
        }

        PretrainResult? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"pretrain {preset.Name}", maxValue: preset.Steps);
                var progress = new InlineProgress<TrainingProgress>(p =>
                {
                    task.Value = p.Step;
                    task.Description = $"pretrain {preset.Name}  step {p.Step}/{p.TotalSteps}  loss {p.Loss:F3}  lr {p.LearningRate:0.0e0}";
                });
                result = Pretrainer.Run(preset,
                    Path.Combine(s.Data, "corpus", "pretrain.txt"), Path.Combine(s.Data, "tokenizer"), output,
                    s.Seed, new ComputeOptions(s.Device, s.Threads, s.Seed), s.CheckpointEvery, progress, cancellation);
            });
        var r = result!;
        AnsiConsole.MarkupLine($"[green]done[/]: {r.Parameters:N0} parameters, {r.Report.Steps} steps, {r.TokensSeen:N0} tokens " +
                               $"({(double)r.TokensSeen / (r.Sequences * (preset.Context - 1)):F2} epochs), loss {r.Report.FirstLoss:F3} → {r.Report.TailLoss:F3}, " +
                               $"{r.Report.Elapsed.TotalMinutes:F1} min → {Markup.Escape(output)}");
        return 0;
    }
}

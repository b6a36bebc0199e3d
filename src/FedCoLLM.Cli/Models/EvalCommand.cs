using System.ComponentModel;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Evaluation;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Tokenization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Models;

/// <summary><c>fedcollm eval --model DIR [--adapter DIR] --data FILE.jsonl</c>: zero-shot multiple-choice accuracy.</summary>
public sealed class EvalCommand : Command<EvalCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--model <DIR>")] [Description("Hugging Face model directory (config.json, model.safetensors, tokenizer files).")]
        public string Model { get; init; } = "";
        [CommandOption("--adapter <DIR>")] [Description("Optional PEFT LoRA adapter directory to apply.")]
        public string? Adapter { get; init; }
        [CommandOption("--data <FILE>")] [Description("Multiple-choice JSONL (AI2 ARC/OBQA/CQA schema or the flattened HF rows); repeatable.")]
        public string[] Data { get; init; } = [];
        [CommandOption("--prompt <FILE>")] [Description("prompt.json of the benchmark (default: lm-evaluation-harness's \"Question: …\\nAnswer:\").")]
        public string? Prompt { get; init; }
        [CommandOption("--batch <N>")] [DefaultValue(16)] public int Batch { get; init; }
        [CommandOption("--max-length <N>")] [DefaultValue(512)] public int MaxLength { get; init; }
        [CommandOption("--threads <N>")] [DefaultValue(2)] public int Threads { get; init; }
        [CommandOption("--device <D>")] [DefaultValue("cpu")] public string Device { get; init; } = "cpu";

        public override ValidationResult Validate() =>
            Model.Length == 0 ? ValidationResult.Error("--model is required")
            : Data.Length == 0 ? ValidationResult.Error("--data is required (a .jsonl file; repeat it for several)")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var compute = new ComputeOptions(s.Device, s.Threads);
        using var model = PretrainedModels.Load(s.Model, compute);
        if (s.Adapter is not null) PeftAdapterFile.ApplyAndLoad(model, s.Adapter);
        var tokenizer = TokenizerFiles.Load(s.Model);

        var table = new Table().AddColumns("data", "n", "acc", "95% CI", "acc_norm", "95% CI");
        foreach (var file in s.Data)
        {
            var items = MultipleChoiceJsonl.Load(file);
            var format = s.Prompt is null ? QaPromptFormat.Default : QaPromptFormat.Load(s.Prompt);
            var questions = MultipleChoiceEvaluator.Prepare(items, format, tokenizer);
            var r = MultipleChoiceEvaluator.Evaluate(model, questions, s.Batch, s.MaxLength, compute, cancellation);
            table.AddRow(Markup.Escape(file), $"{r.Total}", Percent(r.Accuracy), Interval(r.AccuracyInterval),
                Percent(r.AccuracyNormalized), Interval(r.AccuracyNormalizedInterval));
        }
        AnsiConsole.Write(table);
        return 0;
    }

    static string Percent(double x) => $"{100 * x:F1} %";
    static string Interval((double Low, double High) ci) => Markup.Escape($"[{100 * ci.Low:F1}, {100 * ci.High:F1}]");
}

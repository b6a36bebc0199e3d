using System.ComponentModel;
using System.Text.Json.Nodes;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Evaluation;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Tokenization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Models;

/// <summary><c>fedcollm eval --model DIR [--adapter DIR] --data FILE.jsonl [--json]</c>: zero-shot multiple-choice accuracy.</summary>
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
        [CommandOption("--json")] [Description("Print one JSON object (model, adapter, data, n, acc, acc_norm and their 95 % intervals) instead of the table, and nothing else; takes one --data.")]
        public bool Json { get; init; }

        public override ValidationResult Validate() =>
            Model.Length == 0 ? ValidationResult.Error("--model is required")
            : Data.Length == 0 ? ValidationResult.Error("--data is required (a .jsonl file; repeat it for several)")
            : Json && Data.Length > 1 ? ValidationResult.Error("--json prints one object: give one --data")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var compute = new ComputeOptions(s.Device, s.Threads);
        using var model = PretrainedModels.Load(s.Model, compute);
        if (s.Adapter is not null) PeftAdapterFile.ApplyAndLoad(model, s.Adapter);
        var tokenizer = TokenizerFiles.Load(s.Model);

        var format = s.Prompt is null ? QaPromptFormat.Default : QaPromptFormat.Load(s.Prompt);
        var results = s.Data.Select(file =>
        {
            var questions = MultipleChoiceEvaluator.Prepare(MultipleChoiceJsonl.Load(file), format, tokenizer);
            return (File: file, Result: MultipleChoiceEvaluator.Evaluate(model, questions, s.Batch, s.MaxLength, compute, cancellation));
        }).ToList();

        if (s.Json)
        {
            // Straight to the console's writer: Spectre would wrap a long line at the terminal's width.
            AnsiConsole.Profile.Out.Writer.WriteLine(Json(s, results[0].File, results[0].Result).ToJsonString());
            return 0;
        }
        var table = new Table().AddColumns("data", "n", "acc", "95% CI", "acc_norm", "95% CI");
        foreach (var (file, r) in results)
            table.AddRow(Markup.Escape(file), $"{r.Total}", Percent(r.Accuracy), Interval(r.AccuracyInterval),
                Percent(r.AccuracyNormalized), Interval(r.AccuracyNormalizedInterval));
        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>Accuracies as fractions (like report.json's metrics); null where there were no questions.</summary>
    static JsonObject Json(Settings s, string file, MultipleChoiceResult r)
    {
        static JsonNode? Num(double x) => double.IsFinite(x) ? JsonValue.Create(x) : null;
        static JsonArray Ci((double Low, double High) ci) => [Num(ci.Low), Num(ci.High)];
        return new JsonObject
        {
            ["model"] = s.Model,
            ["adapter"] = s.Adapter,
            ["data"] = file,
            ["n"] = r.Total,
            ["acc"] = Num(r.Accuracy),
            ["acc_ci95"] = Ci(r.AccuracyInterval),
            ["acc_norm"] = Num(r.AccuracyNormalized),
            ["acc_norm_ci95"] = Ci(r.AccuracyNormalizedInterval),
        };
    }

    static string Percent(double x) => $"{100 * x:F1} %";
    static string Interval((double Low, double High) ci) => Markup.Escape($"[{100 * ci.Low:F1}, {100 * ci.High:F1}]");
}

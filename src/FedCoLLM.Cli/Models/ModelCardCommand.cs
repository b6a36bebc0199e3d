using System.ComponentModel;
using System.Text.Json.Nodes;
using FedCoLLM.Benchmarks.ModelCards;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Evaluation;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Pretraining;
using FedCoLLM.Learning.Tokenization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Models;

/// <summary><c>fedcollm model-card --model DIR</c>: evaluates a pre-trained built-in model zero-shot on every
/// client domain (validation and test) and writes its README.md and loss.png.</summary>
public sealed class ModelCardCommand : Command<ModelCardCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--model <DIR>")] public string Model { get; init; } = "";
        [CommandOption("--data <DIR>")] [DefaultValue("data/wordnet")] public string Data { get; init; } = "data/wordnet";
        [CommandOption("--threads <N>")] [DefaultValue(2)] public int Threads { get; init; }
        [CommandOption("--compare <DIR>")] [Description("Another model (same tokenizer) to score on the same items and compare with, e.g. the SLM on the LLM's card.")]
        public string? Compare { get; init; }

        public override ValidationResult Validate() =>
            File.Exists(Path.Combine(Model, Pretrainer.HistoryFile)) ? ValidationResult.Success()
                : ValidationResult.Error($"--model must be a directory written by `fedcollm pretrain` (it holds {Pretrainer.HistoryFile})");
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var history = JsonNode.Parse(File.ReadAllText(Path.Combine(s.Model, Pretrainer.HistoryFile)))!;
        var compute = new ComputeOptions("cpu", s.Threads);
        var format = QaPromptFormat.Load(Path.Combine(s.Data, "prompt.json"));
        var accuracy = Score(s.Model, s.Data, format, compute, cancellation);
        using var model = PretrainedModels.Load(s.Model, compute);

        var preset = history["preset"]!;
        var config = (Gpt2Config)model.Config;
        long tokens = history["tokens_seen"]!.GetValue<long>();
        long sequences = history["sequences"]!.GetValue<long>();
        var facts = new ModelCardFacts(
            Name: Path.GetFileName(Path.GetFullPath(s.Model)),
            Architecture: $"GPT-2 ({config.NLayer} layers, d = {config.NEmbd}, {config.NHead} heads, context {config.NPositions})",
            Context: (int)config.NPositions,
            Corpus: Path.Combine(s.Data, "corpus", "pretrain.txt").Replace('\\', '/'),
            VocabSize: (int)config.VocabSize,
            BatchSize: preset["BatchSize"]!.GetValue<int>(),
            Parameters: history["parameters"]!.GetValue<long>(),
            Command: PretrainCommandLine(preset, history, s.Data),
            Seed: history["seed"]!.GetValue<long>(),
            Steps: history["steps"]!.GetValue<int>(),
            TokensSeen: tokens,
            Epochs: (double)tokens / (sequences * (config.NPositions - 1)),
            WallMinutes: history["wall_seconds"]!.GetValue<double>() / 60,
            Threads: history["threads"]!.GetValue<int>(),
            Machine: MachineDescription(),
            Date: File.GetLastWriteTimeUtc(Path.Combine(s.Model, Pretrainer.HistoryFile)).ToString("yyyy-MM-dd"),
            StepLosses: history["step_losses"]!.AsArray().Select(x => x!.GetValue<double>()).ToList(),
            Prompt: $"(`{Path.Combine(s.Data, "prompt.json")}`: \"{format.PromptTemplate}\" → \"{format.AnswerTemplate}\")",
            Accuracy: accuracy)
        {
            Comparison = s.Compare is null ? null : new ModelComparison(Path.GetFileName(Path.GetFullPath(s.Compare)), Score(s.Compare, s.Data, format, compute, cancellation)),
        };
        ModelCard.Write(s.Model, facts);
        AnsiConsole.MarkupLine($"[green]wrote[/] {Markup.Escape(Path.Combine(s.Model, "README.md"))} and {ModelCard.LossPlotFile}");
        return 0;
    }

    /// <summary>Zero-shot accuracy on every client domain's validation and test split.</summary>
    static List<DomainAccuracy> Score(string modelDir, string data, QaPromptFormat format, ComputeOptions compute, CancellationToken cancellation)
    {
        using var model = PretrainedModels.Load(modelDir, compute);
        var tokenizer = TokenizerFiles.Load(modelDir);
        var accuracy = new List<DomainAccuracy>();
        foreach (var split in new[] { "validation", "test" })
            foreach (var domainDir in Directory.GetDirectories(Path.Combine(data, "clients")).Order(StringComparer.Ordinal))
            {
                var items = MultipleChoiceJsonl.Load(Path.Combine(domainDir, split + ".jsonl"));
                var r = MultipleChoiceEvaluator.Evaluate(model, MultipleChoiceEvaluator.Prepare(items, format, tokenizer),
                    batchSize: 32, maxLength: model.Config.MaxSequenceLength, compute, cancellation);
                accuracy.Add(new DomainAccuracy(Path.GetFileName(domainDir), split, r.Total, r.Accuracy,
                    r.AccuracyInterval.Low, r.AccuracyInterval.High, r.AccuracyNormalized));
                AnsiConsole.MarkupLine($"{Path.GetFileName(modelDir)} {Path.GetFileName(domainDir)} {split}: acc {100 * r.Accuracy:F1} %, acc_norm {100 * r.AccuracyNormalized:F1} %");
            }
        return accuracy;
    }

    /// <summary>The pretrain command that reproduces the model: its preset, and every option where the recorded preset
    /// differs from the named one.</summary>
    static string PretrainCommandLine(JsonNode recorded, JsonNode history, string data)
    {
        var named = PretrainPreset.Named(recorded["Name"]!.GetValue<string>());
        var line = new System.Text.StringBuilder($"dotnet run --project src/FedCoLLM.Cli -c Release -- pretrain --preset {named.Name}");
        if (Path.GetFullPath(data) != Path.GetFullPath("data/wordnet")) line.Append($" --data {data}");
        void Option(string name, object mine, object theirs) { if (!Equals(mine, theirs)) line.Append($" --{name} {Convert.ToString(mine, System.Globalization.CultureInfo.InvariantCulture)}"); }
        Option("width", recorded["Width"]!.GetValue<int>(), named.Width);
        Option("layers", recorded["Layers"]!.GetValue<int>(), named.Layers);
        Option("heads", recorded["Heads"]!.GetValue<int>(), named.Heads);
        Option("batch-size", recorded["BatchSize"]!.GetValue<int>(), named.BatchSize);
        Option("steps", recorded["Steps"]!.GetValue<int>(), named.Steps);
        Option("learning-rate", recorded["LearningRate"]!.GetValue<double>(), named.LearningRate);
        line.Append($" --seed {history["seed"]} --threads {history["threads"]}");
        return line.ToString();
    }

    static string MachineDescription()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim()
            : null;
        return $"{cpu ?? "unknown CPU"}, {Environment.ProcessorCount} cores";
    }
}

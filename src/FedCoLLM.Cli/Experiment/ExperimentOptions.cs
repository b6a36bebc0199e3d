using System.ComponentModel;
using System.Globalization;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Experiment;

/// <summary>The experiment's hyper-parameters on the command line. Each given option becomes one line of every generated
/// job file (a job-file key, docs/jobs.md); unset options keep the base job's value.</summary>
public class ExperimentOptions : CommandSettings
{
    [CommandOption("--lambda <X>")] [Description("Weight λ of the KL term in both distillations (job.distillation.lambda).")]
    public double? Lambda { get; init; }
    [CommandOption("--temperature <T>")] [Description("Distillation temperature T (job.distillation.temperature).")]
    public double? Temperature { get; init; }
    [CommandOption("--top-k <K>")] [Description("Teacher logits kept per answer position (job.distillation.top-k).")]
    public int? TopK { get; init; }
    [CommandOption("--slm-lora-r <R>")] public int? SlmLoraRank { get; init; }
    [CommandOption("--slm-lora-alpha <A>")] public double? SlmLoraAlpha { get; init; }
    [CommandOption("--slm-lora-targets <LIST>")] [Description("Comma-separated module names, e.g. c_attn,c_proj,c_fc.")]
    public string? SlmLoraTargets { get; init; }
    [CommandOption("--llm-lora-r <R>")] public int? LlmLoraRank { get; init; }
    [CommandOption("--llm-lora-alpha <A>")] public double? LlmLoraAlpha { get; init; }
    [CommandOption("--llm-lora-targets <LIST>")] public string? LlmLoraTargets { get; init; }
    [CommandOption("--local-epochs <E>")] [Description("Client SFT epochs per round (also the Centralized LLM's SFT epochs).")]
    public int? LocalEpochs { get; init; }
    [CommandOption("--distill-epochs <E>")] [Description("Server distillation epochs per round, both directions.")]
    public int? DistillEpochs { get; init; }
    [CommandOption("--lr-client <LR>")] [Description("Client SFT learning rate.")]
    public double? ClientLearningRate { get; init; }
    [CommandOption("--lr-slm-distill <LR>")] [Description("LLM→SLM distillation learning rate.")]
    public double? SlmDistillLearningRate { get; init; }
    [CommandOption("--lr-llm-distill <LR>")] [Description("SLM→LLM distillation learning rate.")]
    public double? LlmDistillLearningRate { get; init; }
    [CommandOption("--lr-llm-sft <LR>")] [Description("Centralized reference: LLM SFT learning rate on the pooled data.")]
    public double? LlmSftLearningRate { get; init; }
    [CommandOption("--threads <N>")] [Description("TorchSharp threads (job.compute.threads).")]
    public int? Threads { get; init; }

    /// <summary>The Centralized reference's server SFT of the LLM: as many epochs per round as a client sees its own data,
    /// at the LLM distillation's learning rate unless --lr-llm-sft is given (only its job has this block).</summary>
    public IReadOnlyList<string> CentralizedJobLines(double llmDistillationLearningRate) =>
    [
        $"job.training.llm-fine-tuning.learning-rate = {(LlmSftLearningRate ?? LlmDistillLearningRate ?? llmDistillationLearningRate).ToString(CultureInfo.InvariantCulture)}",
        .. LocalEpochs is int e ? new[] { $"job.training.llm-fine-tuning.epochs = {e}" } : [],
    ];

    /// <summary>The given options as job-file lines (HOCON: a later line overrides the base file's value).</summary>
    public IReadOnlyList<string> ToJobLines()
    {
        var lines = new List<string>();
        void Set(string key, object? value)
        {
            if (value is null) return;
            var text = value switch
            {
                string list => "[" + string.Join(", ", list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => $"\"{t}\"")) + "]",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString(),
            };
            lines.Add($"job.{key} = {text}");
        }
        Set("distillation.lambda", Lambda);
        Set("distillation.temperature", Temperature);
        Set("distillation.top-k", TopK);
        Set("lora.slm.r", SlmLoraRank);
        Set("lora.slm.alpha", SlmLoraAlpha);
        Set("lora.slm.targets", SlmLoraTargets);
        Set("lora.llm.r", LlmLoraRank);
        Set("lora.llm.alpha", LlmLoraAlpha);
        Set("lora.llm.targets", LlmLoraTargets);
        Set("training.client.epochs", LocalEpochs);
        Set("training.slm-distillation.epochs", DistillEpochs);
        Set("training.llm-distillation.epochs", DistillEpochs);
        Set("training.client.learning-rate", ClientLearningRate);
        Set("training.slm-distillation.learning-rate", SlmDistillLearningRate);
        Set("training.llm-distillation.learning-rate", LlmDistillLearningRate);
        Set("compute.threads", Threads);
        return lines;
    }
}

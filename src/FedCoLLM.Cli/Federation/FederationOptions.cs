using System.ComponentModel;
using System.Globalization;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Training;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Federation;

/// <summary>The strategy's hyper-parameters on the command line. Each option overrides one field of
/// <see cref="FederationSetup.Default"/>; unset options keep the default. They all enter the settings digest
/// (through the setup), so resuming with other values is refused.</summary>
public class FederationOptions : CommandSettings
{
    [CommandOption("--lambda <X>")] [Description("Weight λ of the KL term in both distillations (default 1).")]
    public double? Lambda { get; init; }
    [CommandOption("--temperature <T>")] [Description("Distillation temperature T (default 1).")]
    public double? Temperature { get; init; }
    [CommandOption("--top-k <K>")] [Description("Teacher logits kept per answer position (default 64).")]
    public int? TopK { get; init; }
    [CommandOption("--slm-lora-r <R>")] public int? SlmLoraRank { get; init; }
    [CommandOption("--slm-lora-alpha <A>")] public double? SlmLoraAlpha { get; init; }
    [CommandOption("--slm-lora-targets <LIST>")] [Description("Comma-separated module names, e.g. c_attn,c_proj,c_fc.")]
    public string? SlmLoraTargets { get; init; }
    [CommandOption("--llm-lora-r <R>")] public int? LlmLoraRank { get; init; }
    [CommandOption("--llm-lora-alpha <A>")] public double? LlmLoraAlpha { get; init; }
    [CommandOption("--llm-lora-targets <LIST>")] public string? LlmLoraTargets { get; init; }
    [CommandOption("--local-epochs <E>")] [Description("Client SFT epochs per round (default 1).")]
    public int? LocalEpochs { get; init; }
    [CommandOption("--distill-epochs <E>")] [Description("Server distillation epochs per round, both directions (default 1).")]
    public int? DistillEpochs { get; init; }
    [CommandOption("--lr-client <LR>")] [Description("Client SFT learning rate (default 2e-3).")]
    public double? ClientLearningRate { get; init; }
    [CommandOption("--lr-slm-distill <LR>")] [Description("LLM→SLM distillation learning rate (default 2e-3).")]
    public double? SlmDistillLearningRate { get; init; }
    [CommandOption("--lr-llm-distill <LR>")] [Description("SLM→LLM distillation learning rate (default 1e-3).")]
    public double? LlmDistillLearningRate { get; init; }
    [CommandOption("--lr-llm-sft <LR>")] [Description("Centralized reference: LLM SFT learning rate on the pooled data (default: the LLM distillation's).")]
    public double? LlmSftLearningRate { get; init; }

    /// <summary><paramref name="setup"/> with every option that was given.</summary>
    public FederationSetup ApplyTo(FederationSetup setup)
    {
        static TrainingSettings Patch(TrainingSettings t, int? epochs, double? lr) =>
            t with { Epochs = epochs ?? t.Epochs, Optimizer = t.Optimizer with { LearningRate = lr ?? t.Optimizer.LearningRate } };
        static LoraConfig Lora(LoraConfig c, int? rank, double? alpha, string? targets) =>
            new(rank ?? c.Rank, alpha ?? c.Alpha, c.Dropout,
                targets is null ? c.TargetModules : targets.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        int topK = TopK ?? setup.TopK;
        var llmDistill = Patch(setup.LlmDistillation, DistillEpochs, LlmDistillLearningRate);
        var llmSft = setup.LlmFineTuning ?? setup.ClientTraining with { Optimizer = setup.ClientTraining.Optimizer with { LearningRate = llmDistill.Optimizer.LearningRate } };
        return setup with
        {
            SlmLora = Lora(setup.SlmLora, SlmLoraRank, SlmLoraAlpha, SlmLoraTargets),
            LlmLora = Lora(setup.LlmLora, LlmLoraRank, LlmLoraAlpha, LlmLoraTargets),
            ClientTraining = Patch(setup.ClientTraining, LocalEpochs, ClientLearningRate),
            SlmDistillation = Patch(setup.SlmDistillation, DistillEpochs, SlmDistillLearningRate),
            LlmDistillation = llmDistill,
            // The centralized LLM sees the pooled data as many times per round as a client sees its own.
            LlmFineTuning = Patch(llmSft, LocalEpochs, LlmSftLearningRate),
            TopK = topK,
            Distillation = setup.Distillation with
            {
                Lambda = Lambda ?? setup.Distillation.Lambda,
                Kd = setup.Distillation.Kd with { TopK = topK, Temperature = Temperature ?? setup.Distillation.Kd.Temperature },
            },
        };
    }

    /// <summary>The setup's knobs as text, for the settings digest and the report (record ToString prints a
    /// list's type, not its items, so the LoRA targets are spelled out here).</summary>
    public static string Describe(FederationSetup s) => string.Create(CultureInfo.InvariantCulture,
        $"λ={s.Distillation.Lambda} T={s.Distillation.Kd.Temperature} k={s.TopK} "
        + $"SLM LoRA r={s.SlmLora.Rank} α={s.SlmLora.Alpha} [{string.Join(",", s.SlmLora.TargetModules)}] "
        + $"LLM LoRA r={s.LlmLora.Rank} α={s.LlmLora.Alpha} [{string.Join(",", s.LlmLora.TargetModules)}] "
        + $"client SFT {s.ClientTraining.Epochs} ep lr {s.ClientTraining.Optimizer.LearningRate} · "
        + $"SLM distill {s.SlmDistillation.Epochs} ep lr {s.SlmDistillation.Optimizer.LearningRate} · "
        + $"LLM distill {s.LlmDistillation.Epochs} ep lr {s.LlmDistillation.Optimizer.LearningRate} · "
        + $"LLM SFT (centralized) {(s.LlmFineTuning ?? s.ClientTraining).Epochs} ep lr {(s.LlmFineTuning ?? s.ClientTraining).Optimizer.LearningRate} · "
        + $"batch {s.ClientTraining.BatchSize} · max length {s.MaxLength}");
}

using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Learning.Federation;

/// <summary>Which of the two model families a step runs on: the clients' small LM or the server's LLM.</summary>
public enum ModelKind { Slm, Llm }

/// <summary>
/// Everything that is fixed for one FedCoLLM federation job: the two base models, their LoRA configs, the prompt
/// format and sequence length every phase shares, and the settings of the three training phases. Every participant
/// of a job must use an equal setup, or adapters and teacher rows stop lining up.
/// <para>The <see cref="TrainingSettings.Seed"/> and <see cref="TrainingSettings.MaxLength"/> of
/// <see cref="ClientTraining"/>, <see cref="SlmDistillation"/> and <see cref="LlmDistillation"/> are ignored: each
/// step takes its seed as an argument and every phase uses <see cref="MaxLength"/>.</para>
/// </summary>
public sealed record FederationSetup
{
    /// <summary>Hugging Face directory of the small LM (config.json, model.safetensors, tokenizer files).</summary>
    public required string SlmDirectory { get; init; }
    /// <summary>Hugging Face directory of the server's LLM; it must share the SLM's tokenizer.</summary>
    public required string LlmDirectory { get; init; }
    public required LoraConfig SlmLora { get; init; }
    public required LoraConfig LlmLora { get; init; }
    /// <summary>The one prompt format of SFT, teacher passes, distillation and evaluation.</summary>
    public required QaPromptFormat Prompt { get; init; }
    /// <summary>Longest token sequence of every phase (prompts are cut from the left); at most the models' context.</summary>
    public int MaxLength { get; init; } = 128;
    /// <summary>Client-side SFT on the private set (FedCoLLM step 1).</summary>
    public required TrainingSettings ClientTraining { get; init; }
    /// <summary>Server-side LLM → SLM distillation on the public set.</summary>
    public required TrainingSettings SlmDistillation { get; init; }
    /// <summary>Server-side SLM → LLM distillation on the public set.</summary>
    public required TrainingSettings LlmDistillation { get; init; }
    /// <summary>Server-side SFT of the LLM on a training set the server holds (only the Centralized reference, which pools
    /// the client data; FedCoLLM never does this). Null: <see cref="ClientTraining"/>'s settings.</summary>
    public TrainingSettings? LlmFineTuning { get; init; }
    /// <summary>λ and the KD options of both distillation directions; <c>Distillation.Kd.TopK</c> must equal <see cref="TopK"/>.</summary>
    public DistillationSettings Distillation { get; init; } = new();
    /// <summary>k of the teacher's top-k logits kept per answer position.</summary>
    public int TopK { get; init; } = 128;
    /// <summary>Batch size of forward-only passes (teacher logits, evaluation).</summary>
    public int EvalBatchSize { get; init; } = 32;
    /// <summary>When set, a client trains on only the first this-many examples of its file (quick runs).</summary>
    public int? MaxClientExamples { get; init; }
    /// <summary>When set, teacher passes and distillation use only the first this-many public examples (quick runs).</summary>
    public int? MaxPublicExamples { get; init; }
    public ComputeOptions Compute { get; init; } = new();
    /// <summary>The dtype every SLM adapter a step writes is rounded to: the initial SLM adapter, client updates, the FedAvg
    /// aggregate and the distilled SLM adapter (what is broadcast). LLM adapters never leave the server and stay float32;
    /// training is float32 throughout (<see cref="AdapterWireDtype"/>).</summary>
    public AdapterWireDtype SlmWireDtype { get; init; } = AdapterWireDtype.Float32;

    /// <summary>
    /// Defaults for the built-in WordNet models (<c>models/wordnet-slm</c>, <c>models/wordnet-llm</c>: GPT-2, vocab 4096,
    /// context 128) on <c>data/wordnet</c>: LoRA on every projection (c_attn, c_proj, c_fc), one epoch per phase,
    /// constant learning rates that visibly move a 0.65M / 5.8M model in one epoch.
    /// </summary>
    public static FederationSetup Default(string slmDir, string llmDir, QaPromptFormat prompt)
    {
        string[] targets = ["c_attn", "c_fc", "c_proj"];
        var phase = new TrainingSettings
        {
            Epochs = 1,
            BatchSize = 16,
            MaxLength = 128,
            Optimizer = new OptimizerSettings { LearningRate = 2e-3, Schedule = LearningRateScheduleKind.CosineWithWarmup, WarmupRatio = 0.05 },
        };
        return new FederationSetup
        {
            SlmDirectory = slmDir,
            LlmDirectory = llmDir,
            SlmLora = new LoraConfig(rank: 8, alpha: 16, dropout: 0.05, targets),
            LlmLora = new LoraConfig(rank: 8, alpha: 16, dropout: 0.05, targets),
            Prompt = prompt,
            MaxLength = 128,
            ClientTraining = phase,
            SlmDistillation = phase,
            LlmDistillation = phase with { Optimizer = phase.Optimizer with { LearningRate = 1e-3 } },
            Distillation = new DistillationSettings { Lambda = 1.0, Kd = new Losses.DistillationOptions(Temperature: 1.0, TopK: 64) },
            TopK = 64,
            EvalBatchSize = 64,
            Compute = new ComputeOptions(),
        };
    }

    /// <summary>Checks every field without touching the model files; throws an <see cref="ArgumentException"/>
    /// whose message and <c>ParamName</c> name the field and say how to fix it. Returns this setup.</summary>
    public FederationSetup Validate()
    {
        RequireDirectory(SlmDirectory, nameof(SlmDirectory));
        RequireDirectory(LlmDirectory, nameof(LlmDirectory));
        Nested(nameof(SlmLora), () => Required(SlmLora, nameof(SlmLora)).Validate());
        Nested(nameof(LlmLora), () => Required(LlmLora, nameof(LlmLora)).Validate());
        Required(Prompt, nameof(Prompt));
        if (!Prompt.PromptTemplate.Contains("{question}", StringComparison.Ordinal))
            throw Bad($"{nameof(Prompt)}.{nameof(QaPromptFormat.PromptTemplate)}", $"is \"{Prompt.PromptTemplate}\"; it must contain the {{question}} placeholder (load the benchmark's prompt.json with QaPromptFormat.Load)");
        if (!Prompt.AnswerTemplate.Contains("{answer}", StringComparison.Ordinal))
            throw Bad($"{nameof(Prompt)}.{nameof(QaPromptFormat.AnswerTemplate)}", $"is \"{Prompt.AnswerTemplate}\"; it must contain the {{answer}} placeholder, e.g. \" {{answer}}\"");
        if (MaxLength < 2)
            throw Bad(nameof(MaxLength), $"= {MaxLength}; set it to at least 2 tokens and at most the models' context (n_positions), e.g. 128");
        ValidatePhase(ClientTraining, nameof(ClientTraining));
        ValidatePhase(SlmDistillation, nameof(SlmDistillation));
        ValidatePhase(LlmDistillation, nameof(LlmDistillation));
        if (LlmFineTuning is not null) ValidatePhase(LlmFineTuning, nameof(LlmFineTuning));
        Nested(nameof(Distillation), () => Required(Distillation, nameof(Distillation)).Validate());
        Nested($"{nameof(Distillation)}.{nameof(DistillationSettings.Kd)}", () => Required(Distillation.Kd, $"{nameof(Distillation)}.{nameof(DistillationSettings.Kd)}").Validate());
        if (TopK < 1)
            throw Bad(nameof(TopK), $"= {TopK}; set it to the number of teacher logits kept per answer position, at least 1 and at most the vocabulary size (FATE's default is 128)");
        if (Distillation.Kd.TopK != TopK)
            throw Bad($"{nameof(Distillation)}.{nameof(DistillationSettings.Kd)}.{nameof(Losses.DistillationOptions.TopK)}",
                $"= {Distillation.Kd.TopK} but {nameof(TopK)} = {TopK}; the teacher's k is {nameof(TopK)}, set both to the same value");
        if (EvalBatchSize < 1)
            throw Bad(nameof(EvalBatchSize), $"= {EvalBatchSize}; set it to at least 1, e.g. 64");
        if (MaxClientExamples is < 1)
            throw Bad(nameof(MaxClientExamples), $"= {MaxClientExamples}; set it to at least 1, or leave it null to train on the whole file");
        if (MaxPublicExamples is < 1)
            throw Bad(nameof(MaxPublicExamples), $"= {MaxPublicExamples}; set it to at least 1, or leave it null to use the whole public set");
        Required(Compute, nameof(Compute));
        if (Compute.Threads < 1)
            throw Bad($"{nameof(Compute)}.{nameof(ComputeOptions.Threads)}", $"= {Compute.Threads}; set it to at least 1 (the machine's core count)");
        if (Compute.Device is not ("cpu" or "cuda"))
            throw Bad($"{nameof(Compute)}.{nameof(ComputeOptions.Device)}", $"= \"{Compute.Device}\"; set it to \"cpu\" or \"cuda\"");
        return this;
    }

    /// <summary>The directory of <paramref name="kind"/>'s base model.</summary>
    public string DirectoryOf(ModelKind kind) => kind switch
    {
        ModelKind.Slm => SlmDirectory,
        ModelKind.Llm => LlmDirectory,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "ModelKind must be Slm or Llm."),
    };

    public LoraConfig LoraOf(ModelKind kind) => kind == ModelKind.Slm ? SlmLora : LlmLora;

    /// <summary>The distillation settings of <paramref name="student"/>.</summary>
    public TrainingSettings DistillationOf(ModelKind student) => student == ModelKind.Slm ? SlmDistillation : LlmDistillation;

    static void RequireDirectory(string? directory, string field)
    {
        if (string.IsNullOrWhiteSpace(directory))
            throw Bad(field, "is empty; set it to a Hugging Face model directory (config.json, model.safetensors, vocab.json + merges.txt), e.g. models/wordnet-slm");
        if (!Directory.Exists(directory))
            throw Bad(field, $"= '{directory}' does not exist; set it to a Hugging Face model directory (relative paths resolve against {Environment.CurrentDirectory})");
        if (!File.Exists(Path.Combine(directory, PretrainedModels.ConfigFile)))
            throw Bad(field, $"= '{directory}' has no {PretrainedModels.ConfigFile}; set it to a Hugging Face model directory (config.json, model.safetensors, tokenizer files)");
    }

    static void ValidatePhase(TrainingSettings? settings, string field)
    {
        Required(settings, field);
        Nested($"{field}.{nameof(TrainingSettings.Optimizer)}", () => Required(settings!.Optimizer, $"{field}.{nameof(TrainingSettings.Optimizer)}").Validate());
        Nested(field, settings!.Validate);
    }

    static T Required<T>(T? value, string field) where T : class =>
        value ?? throw Bad(field, "is null; set it (FederationSetup.Default gives working values)");

    /// <summary>Re-throws a nested validation error with the setup's field as prefix.</summary>
    static void Nested(string field, Action validate)
    {
        try { validate(); }
        catch (ArgumentException ex) when (ex.ParamName is null || !ex.ParamName.StartsWith(field, StringComparison.Ordinal))
        {
            var inner = ex.ParamName is { Length: > 0 } p ? $"{field}.{p}" : field;
            throw new ArgumentException($"FederationSetup.{inner}: {StripParam(ex.Message)}", inner, ex);
        }
    }

    static string StripParam(string message)
    {
        int at = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return at < 0 ? message : message[..at];
    }

    static ArgumentException Bad(string field, string problem) => new($"FederationSetup.{field} {problem}.", field);
}

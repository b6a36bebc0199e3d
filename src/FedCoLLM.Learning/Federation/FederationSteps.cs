using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Evaluation;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Tokenization;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Learning.Federation;

/// <summary>What a client sends back after its local step: its adapter bytes and n_k, the FedAvg weight.</summary>
public sealed record ClientUpdate(byte[] Adapter, long SampleCount, TrainingReport Report);

/// <summary>A distilled student adapter and the phase's losses (CE + λ·KD per optimizer step).</summary>
public sealed record DistillationResult(byte[] Adapter, TrainingReport Report);

/// <summary>A teacher pass's <see cref="TeacherLogitsFile"/> bytes, and the teacher's mean probability mass outside its
/// top-k at the distillation temperature over the <paramref name="Positions"/> answer positions it covered.</summary>
public sealed record TeacherLogitsResult(byte[] Logits, double MassOutsideTopK, long Positions);

/// <summary>Where a training step keeps its checkpoints (the adapter in float32, the optimizer state and the step) and how
/// often: a later call with the same inputs and directory, after one that was killed, continues from the last checkpoint
/// and returns the same bytes an uninterrupted call would. The caller keys the directory by the step's inputs and
/// deletes it once the result is kept.</summary>
/// <param name="Interval">At most one save per this much time (zero: after every optimizer step).</param>
public sealed record StepCheckpoint(string Directory, TimeSpan Interval = default);

/// <summary>
/// The steps of one FedCoLLM round (fedcollm.md §1.2) as byte-in/byte-out functions, so an actor layer only has to
/// move content-addressed bytes: adapters are <see cref="AdapterWeights.ToBytes"/> (PEFT's adapter_model.safetensors),
/// teacher logits are <see cref="TeacherLogitsFile.ToBytes"/>.
/// <para>One instance per process and setup: it loads each base model with LoRA applied (lazily, once) and the shared
/// tokenizer, and caches tokenized datasets by full path (files are assumed not to change while it lives). No call
/// depends on an earlier one: each overwrites every LoRA matrix from its input adapter, builds a fresh optimizer and
/// reseeds libtorch, so for a fixed setup, seed and thread count the output bytes are the same on a fresh instance
/// and after any other calls.</para>
/// <para>Calls are synchronous. libtorch's random generator and thread count are process-wide, so every call that
/// touches TorchSharp holds one process-wide lock: concurrent calls, even on different instances, run one at a
/// time. Run them on a dedicated thread or serial executor rather than blocking many pool threads.</para>
/// </summary>
public sealed class FederationSteps : IDisposable
{
    static readonly Lock ProcessGate = new();

    readonly Dictionary<string, List<TokenizedExample>> trainingSets = new(StringComparer.Ordinal);
    readonly Dictionary<string, IReadOnlyList<ScoredQuestion>> questionSets = new(StringComparer.Ordinal);
    readonly Dictionary<ModelKind, (CausalLanguageModel Model, LoraAdapter Adapter)> models = [];
    readonly ModelConfig slmConfig, llmConfig;
    TextTokenizer? tokenizer;
    bool disposed;

    public FederationSetup Setup { get; }

    /// <summary>Validates the setup and reads both config.json files; loads no weights yet.</summary>
    public FederationSteps(FederationSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        Setup = setup.Validate();
        slmConfig = PretrainedModels.ReadConfig(setup.SlmDirectory);
        llmConfig = PretrainedModels.ReadConfig(setup.LlmDirectory);
        if (slmConfig.VocabSize != llmConfig.VocabSize)
            throw new ArgumentException(
                $"FederationSetup.LlmDirectory: the LLM's vocab_size is {llmConfig.VocabSize} but the SLM's ({setup.SlmDirectory}) is {slmConfig.VocabSize}. "
                + "FedCoLLM distils logits over one shared vocabulary; pick an SLM and an LLM with the same tokenizer.", nameof(FederationSetup.LlmDirectory));
        foreach (var (kind, config) in new[] { (ModelKind.Slm, slmConfig), (ModelKind.Llm, llmConfig) })
        {
            if (setup.MaxLength > config.MaxSequenceLength)
                throw new ArgumentException(
                    $"FederationSetup.MaxLength = {setup.MaxLength} exceeds the {kind}'s context of {config.MaxSequenceLength} tokens ({setup.DirectoryOf(kind)}); set MaxLength ≤ {config.MaxSequenceLength}.",
                    nameof(FederationSetup.MaxLength));
            if (setup.TopK > config.VocabSize)
                throw new ArgumentException(
                    $"FederationSetup.TopK = {setup.TopK} exceeds the vocabulary size {config.VocabSize}; set TopK ≤ {config.VocabSize}.", nameof(FederationSetup.TopK));
        }
    }

    /// <summary>PEFT's fresh LoRA for <paramref name="kind"/>: A drawn from a generator seeded with <paramref name="seed"/>, B = 0
    /// (so the model's outputs equal the base model's). Needs no weights file, only config.json.</summary>
    public byte[] InitialAdapter(ModelKind kind, long seed)
    {
        lock (ProcessGate)
        {
            ThrowIfDisposed();
            using var model = PretrainedModels.Create(ConfigOf(kind));
            var adapter = LoraAdapter.Apply(model, Setup.LoraOf(kind), seed);
            return adapter.Export().ToBytes(WireDtypeOf(kind));
        }
    }

    /// <summary>
    /// FedCoLLM step 1 on a client: answer-token cross-entropy SFT of the SLM, starting from <paramref name="slmAdapter"/>,
    /// on prompt ⊕ gold answer of every question in <paramref name="trainJsonl"/> (the first
    /// <see cref="FederationSetup.MaxClientExamples"/> when set), with <see cref="FederationSetup.ClientTraining"/>.
    /// </summary>
    public ClientUpdate TrainClient(byte[] slmAdapter, string trainJsonl, long seed,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default, StepCheckpoint? checkpoint = null)
    {
        ArgumentNullException.ThrowIfNull(slmAdapter);
        lock (ProcessGate)
        {
            ThrowIfDisposed();
            var examples = TrainingSet(trainJsonl, Setup.MaxClientExamples);
            var (model, adapter) = LoadInto(ModelKind.Slm, slmAdapter);
            var report = SupervisedFineTuning.Train(model, examples, PhaseSettings(Setup.ClientTraining, seed), Setup.Compute, progress, cancellation,
                AdapterCheckpoints(checkpoint, adapter));
            return new ClientUpdate(adapter.Export().ToBytes(Setup.SlmWireDtype), examples.Count, report);
        }
    }

    /// <summary>
    /// The Centralized reference's server step: answer-token cross-entropy SFT of the LLM, starting from
    /// <paramref name="llmAdapter"/>, on every question of <paramref name="trainJsonl"/> (the first
    /// <see cref="FederationSetup.MaxClientExamples"/> when set), with <see cref="FederationSetup.LlmFineTuning"/>
    /// (or <see cref="FederationSetup.ClientTraining"/>). The same loss as <see cref="TrainClient"/>, on the other model.
    /// </summary>
    public ClientUpdate TrainLlm(byte[] llmAdapter, string trainJsonl, long seed,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default, StepCheckpoint? checkpoint = null) =>
        SftLlm(llmAdapter, trainJsonl, Setup.MaxClientExamples, Setup.LlmFineTuning ?? Setup.ClientTraining, seed, progress, cancellation, checkpoint);

    /// <summary>
    /// The "LLM on the public set alone" reference (issue 16): answer-token cross-entropy SFT of the LLM, starting from
    /// <paramref name="llmAdapter"/>, on the public set (the first <see cref="FederationSetup.MaxPublicExamples"/> when set)
    /// with <see cref="FederationSetup.LlmDistillation"/>'s settings: the same data, cap and optimisation the LLM gets in
    /// FedCoLLM's SLM → LLM step, without the KD term and without any SLM.
    /// </summary>
    public ClientUpdate TrainLlmOnPublic(byte[] llmAdapter, string publicJsonl, long seed,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default, StepCheckpoint? checkpoint = null) =>
        SftLlm(llmAdapter, publicJsonl, Setup.MaxPublicExamples, Setup.LlmDistillation, seed, progress, cancellation, checkpoint);

    /// <summary>Answer-token cross-entropy SFT of the LLM from <paramref name="llmAdapter"/> on the first
    /// <paramref name="maxExamples"/> questions of <paramref name="jsonl"/>: the shared body of <see cref="TrainLlm"/> and
    /// <see cref="TrainLlmOnPublic"/>, which differ only in the data, its cap and the phase settings.</summary>
    ClientUpdate SftLlm(byte[] llmAdapter, string jsonl, int? maxExamples, TrainingSettings phase, long seed,
        IProgress<TrainingProgress>? progress, CancellationToken cancellation, StepCheckpoint? checkpoint)
    {
        ArgumentNullException.ThrowIfNull(llmAdapter);
        lock (ProcessGate)
        {
            ThrowIfDisposed();
            var examples = TrainingSet(jsonl, maxExamples);
            var (model, adapter) = LoadInto(ModelKind.Llm, llmAdapter);
            var report = SupervisedFineTuning.Train(model, examples, PhaseSettings(phase, seed), Setup.Compute, progress, cancellation,
                AdapterCheckpoints(checkpoint, adapter));
            return new ClientUpdate(adapter.Export().ToBytes(), examples.Count, report);
        }
    }

    /// <summary>
    /// FedAvg (<see cref="FedAvg.Aggregate"/>) of client SLM adapters weighted by their sample counts. The sum runs in
    /// the caller's order, which can change the last bit of the result: pass the updates in a deterministic order
    /// (e.g. sorted by client id) to get content-stable bytes.
    /// </summary>
    public byte[] Aggregate(IReadOnlyList<(byte[] Adapter, long SampleCount)> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        lock (ProcessGate)
        {
            ThrowIfDisposed();
            return FedAvg.AggregateBytes(updates, Setup.SlmWireDtype);
        }
    }

    /// <summary>
    /// FedCoLLM steps 6 and 9: the teacher's top-<see cref="FederationSetup.TopK"/> logits at every answer position of
    /// every public example (prompt ⊕ gold answer; the first <see cref="FederationSetup.MaxPublicExamples"/> when set),
    /// as <see cref="TeacherLogitsFile"/> bytes.
    /// </summary>
    public byte[] TeacherLogits(ModelKind teacher, byte[] teacherAdapter, string publicJsonl, CancellationToken cancellation = default) =>
        TeacherLogitsWithMass(teacher, teacherAdapter, publicJsonl, cancellation).Logits;

    /// <summary><see cref="TeacherLogits"/>, plus the teacher's mean probability mass outside its top-k at the job's
    /// temperature over every answer position (<see cref="Losses.TeacherMass"/>): what the KD of the distillation that
    /// reads these logits cannot see. Same bytes as <see cref="TeacherLogits"/>.</summary>
    public TeacherLogitsResult TeacherLogitsWithMass(ModelKind teacher, byte[] teacherAdapter, string publicJsonl, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(teacherAdapter);
        lock (ProcessGate)
        {
            ThrowIfDisposed();
            var examples = TrainingSet(publicJsonl, Setup.MaxPublicExamples);
            var (model, _) = LoadInto(teacher, teacherAdapter);
            var mass = new Losses.TeacherMassTally(Setup.Distillation.Kd.Temperature);
            var rows = TeacherPass.Extract(model, examples, Setup.TopK, Setup.EvalBatchSize, Setup.MaxLength, Setup.Compute, mass, cancellation);
            return new TeacherLogitsResult(new TeacherLogitsFile(rows).ToBytes(), mass.Mean, mass.Positions);
        }
    }

    /// <summary>
    /// FedCoLLM steps 7 and 10: trains <paramref name="student"/> from <paramref name="studentAdapter"/> on the public set
    /// with CE + λ·KD against <paramref name="teacherLogits"/> (from <see cref="TeacherLogits"/> on the same file), using
    /// <see cref="FederationSetup.SlmDistillation"/> or <see cref="FederationSetup.LlmDistillation"/>.
    /// </summary>
    /// <param name="checkpoint">Where and how often to checkpoint (<see cref="StepCheckpoint"/>); null: no checkpoints.
    /// The other training steps take the same parameter.</param>
    public DistillationResult Distill(ModelKind student, byte[] studentAdapter, byte[] teacherLogits, string publicJsonl, long seed,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default, StepCheckpoint? checkpoint = null)
    {
        ArgumentNullException.ThrowIfNull(studentAdapter);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        lock (ProcessGate)
        {
            ThrowIfDisposed();
            var examples = TrainingSet(publicJsonl, Setup.MaxPublicExamples);
            var file = TeacherLogitsFile.FromBytes(teacherLogits);
            var teacher = file.AlignedWith(examples.Select(e => e.AnswerIds.Length).ToList(), publicJsonl);
            long vocab = ConfigOf(student).VocabSize;
            for (int i = 0; i < teacher.Count; i++)
            {
                int max = teacher[i].Indices.Length == 0 ? -1 : teacher[i].Indices.Max();
                if (max >= vocab)
                    throw new InvalidDataException($"Teacher logits example {i} names token id {max}, outside the {student}'s vocabulary of {vocab}; the teacher used another tokenizer.");
            }
            var (model, adapter) = LoadInto(student, studentAdapter);
            string phase = student == ModelKind.Slm ? "distill-llm-to-slm" : "distill-slm-to-llm";
            var report = Distillation.Train(phase, model, examples, teacher, PhaseSettings(Setup.DistillationOf(student), seed),
                Setup.Distillation, Setup.Compute, progress, cancellation, AdapterCheckpoints(checkpoint, adapter));
            return new DistillationResult(adapter.Export().ToBytes(WireDtypeOf(student)), report);
        }
    }

    /// <summary>Checkpoints of a training step that trains <paramref name="adapter"/> only: its weights in float32 (exact),
    /// beside the optimizer state the loop keeps.</summary>
    static TrainingCheckpoints? AdapterCheckpoints(StepCheckpoint? checkpoint, LoraAdapter adapter) => checkpoint is null ? null
        : new TrainingCheckpoints(checkpoint.Directory, Every: 1, Interval: checkpoint.Interval,
            SaveModel: dir => File.WriteAllBytes(Path.Combine(dir, AdapterCheckpointFile), adapter.Export().ToBytes()),
            LoadModel: dir =>
            {
                var path = Path.Combine(dir, AdapterCheckpointFile);
                adapter.Load(AdapterWeights.FromBytes(File.ReadAllBytes(path), path), path);
            });

    const string AdapterCheckpointFile = "adapter.safetensors";

    /// <summary>Zero-shot multiple-choice accuracy (log-likelihood, as lm-evaluation-harness) of <paramref name="kind"/> with
    /// <paramref name="adapter"/> on the first <paramref name="maxItems"/> (default all) questions of <paramref name="testJsonl"/>.</summary>
    public MultipleChoiceResult Evaluate(ModelKind kind, byte[] adapter, string testJsonl, int? maxItems = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        if (maxItems is < 1)
            throw new ArgumentOutOfRangeException(nameof(maxItems), maxItems, "maxItems must be at least 1, or null for the whole file.");
        lock (ProcessGate)
        {
            ThrowIfDisposed();
            var questions = QuestionSet(testJsonl);
            if (maxItems is int n && n < questions.Count) questions = questions.Take(n).ToList();
            var (model, _) = LoadInto(kind, adapter);
            var choices = questions.SelectMany(q => q.Choices).ToList();
            return MultipleChoiceEvaluator.Tally(questions,
                MultipleChoiceEvaluator.LogLikelihoods(model, choices, Setup.EvalBatchSize, Setup.MaxLength, Setup.Compute, cancellation));
        }
    }

    public void Dispose()
    {
        lock (ProcessGate)
        {
            if (disposed) return;
            disposed = true;
            foreach (var (model, _) in models.Values) model.Dispose();
            models.Clear();
            trainingSets.Clear();
            questionSets.Clear();
        }
    }

    /// <summary>SLM adapters cross the network in the job's wire dtype; the LLM's stays on the server, in float32.</summary>
    AdapterWireDtype WireDtypeOf(ModelKind kind) => kind == ModelKind.Slm ? Setup.SlmWireDtype : AdapterWireDtype.Float32;

    ModelConfig ConfigOf(ModelKind kind) => kind switch
    {
        ModelKind.Slm => slmConfig,
        ModelKind.Llm => llmConfig,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "ModelKind must be Slm or Llm."),
    };

    TrainingSettings PhaseSettings(TrainingSettings settings, long seed) => settings with { Seed = seed, MaxLength = Setup.MaxLength };

    /// <summary>The cached model of <paramref name="kind"/> with every LoRA matrix overwritten from <paramref name="adapterBytes"/>.</summary>
    (CausalLanguageModel Model, LoraAdapter Adapter) LoadInto(ModelKind kind, byte[] adapterBytes)
    {
        var loaded = Model(kind);
        var source = $"{kind} adapter";
        AdapterWeights weights;
        try { weights = AdapterWeights.FromBytes(adapterBytes, source); }
        catch (Exception ex) when (ex is not InvalidDataException and not OutOfMemoryException)
        { throw new InvalidDataException($"{source} is not a safetensors adapter ({ex.GetType().Name}: {ex.Message}); pass AdapterWeights.ToBytes() output.", ex); }
        loaded.Adapter.Load(weights, source);
        return loaded;
    }

    (CausalLanguageModel Model, LoraAdapter Adapter) Model(ModelKind kind)
    {
        if (models.TryGetValue(kind, out var cached)) return cached;
        var model = PretrainedModels.Load(Setup.DirectoryOf(kind), Setup.Compute);
        try
        {
            var adapter = LoraAdapter.Apply(model, Setup.LoraOf(kind), seed: 0); // every call overwrites A and B
            models[kind] = (model, adapter);
            return (model, adapter);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    TextTokenizer Tokenizer()
    {
        if (tokenizer is not null) return tokenizer;
        foreach (var file in new[] { TokenizerFiles.Gpt2Vocabulary, TokenizerFiles.Gpt2Merges, TokenizerFiles.SentencePieceModel })
        {
            string slm = Path.Combine(Setup.SlmDirectory, file), llm = Path.Combine(Setup.LlmDirectory, file);
            if (File.Exists(slm) != File.Exists(llm) || (File.Exists(slm) && !File.ReadAllBytes(slm).AsSpan().SequenceEqual(File.ReadAllBytes(llm))))
                throw new InvalidDataException(
                    $"The tokenizer file {file} differs between SlmDirectory ({Setup.SlmDirectory}) and LlmDirectory ({Setup.LlmDirectory}). "
                    + "FedCoLLM distils logits over one shared vocabulary; use models that share a tokenizer.");
        }
        var loaded = TokenizerFiles.Load(Setup.SlmDirectory);
        if (TokenizerFiles.Load(Setup.LlmDirectory).BosId != loaded.BosId)
            throw new InvalidDataException(
                $"The SLM ({Setup.SlmDirectory}) and the LLM ({Setup.LlmDirectory}) disagree on the BOS token (add_bos_token in {TokenizerFiles.TokenizerConfig}); "
                + "teacher logits line up with the student's answer positions only if both read the same token ids.");
        if (loaded.VocabSize > slmConfig.VocabSize)
            throw new InvalidDataException($"The tokenizer in {Setup.SlmDirectory} produces ids up to {loaded.VocabSize - 1} but the model's vocab_size is {slmConfig.VocabSize}.");
        return tokenizer = loaded;
    }

    /// <summary>prompt ⊕ gold answer of every question of a file (cached by full path), or of its first <paramref name="max"/>.</summary>
    IReadOnlyList<TokenizedExample> TrainingSet(string path, int? max)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var key = Path.GetFullPath(path);
        if (!trainingSets.TryGetValue(key, out var examples))
        {
            var tokenizer = Tokenizer();
            examples = Items(key).Select(item => Setup.Prompt.TrainingExample(item, tokenizer)).ToList();
            trainingSets[key] = examples;
        }
        return max is int n && n < examples.Count ? examples.GetRange(0, n) : examples;
    }

    IReadOnlyList<ScoredQuestion> QuestionSet(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var key = Path.GetFullPath(path);
        if (!questionSets.TryGetValue(key, out var questions))
        {
            questions = MultipleChoiceEvaluator.Prepare(Items(key), Setup.Prompt, Tokenizer());
            questionSets[key] = questions;
        }
        return questions;
    }

    static IReadOnlyList<MultipleChoiceItem> Items(string fullPath)
    {
        if (!File.Exists(fullPath))
            throw new FileNotFoundException($"No multiple-choice JSONL file at '{fullPath}'.", fullPath);
        var items = MultipleChoiceJsonl.Load(fullPath);
        if (items.Count == 0)
            throw new InvalidDataException($"'{fullPath}' holds no questions.");
        return items;
    }

    void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);
}

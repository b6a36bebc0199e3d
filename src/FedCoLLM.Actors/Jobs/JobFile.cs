using System.Text.RegularExpressions;
using Akka.Configuration;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Actors.Jobs;

/// <summary>
/// Reads a job file (HOCON, one <c>job { … }</c> block, every key in docs/jobs.md) into its canonical
/// <see cref="JobDefinition"/>: defaults filled, values validated, the models and the server's data files checked and
/// hashed. Every refusal is a <see cref="JobFileException"/> naming the key and how to fix it.
/// </summary>
public static partial class JobFile
{
    public const string ZeroShot = "zeroshot";
    public const string Standalone = "standalone";
    public const string Centralized = "centralized";
    public const string LlmPublic = "llm-public";

    /// <summary>Strategies whose round has no clients phase, so a job may enrol no client.</summary>
    static bool NeedsNoClients(string strategy) => strategy is ZeroShot or LlmPublic;

    /// <summary>Files that make up a tokenizer; the SLM and the LLM must hold the same ones with the same bytes,
    /// because distillation compares their logits token id by token id.</summary>
    public static readonly string[] TokenizerFiles = ["merges.txt", "tokenizer.json", "tokenizer.model", "vocab.json"];

    public static JobDefinition Load(string path, IReadOnlyCollection<string> strategies)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new JobFileException("job", $"{path}: cannot read the job file: {ex.Message}", ex);
        }
        return Parse(text, path, strategies);
    }

    /// <param name="sourceName">Names the file in messages.</param>
    /// <param name="strategies">The strategy names this build can run; <c>job.strategy</c> must be one of them.</param>
    public static JobDefinition Parse(string hoconText, string sourceName, IReadOnlyCollection<string> strategies)
    {
        Akka.Configuration.Hocon.HoconValue root;
        // Akka's parser accepts a block that is never closed; the bracket check names the block and the line instead.
        try { Hosting.HoconSyntax.Check(hoconText, sourceName); }
        catch (Hosting.ConfigFileException ex) { throw new JobFileException(ex.Section is { Length: > 0 } section ? section : "job", ex.Message, ex); }
        try { root = ConfigurationFactory.ParseString(hoconText).Root; }
        catch (Exception ex)
        {
            // Akka's parser refuses a comma after a closing brace, which HOCON itself allows; say so, it is the usual cause.
            var hint = BlockThenComma().IsMatch(hoconText) ? " (a block { … } followed by a comma is not accepted here: end the block with a new line instead)" : "";
            throw new JobFileException("job", $"{sourceName}: not valid HOCON{hint}: {ex.Message}", ex);
        }

        var file = JobSection.Root(sourceName, root, "job");
        if (!file.Has("job")) throw file.Error("job", "missing; the file must hold one block job { id = …, strategy = …, … }");
        var job = file.Section("job", "id", "strategy", "rounds", "seed", "models", "lora", "training", "distillation", "data", "clients", "deadlines", "updates", "compute", "adapters",
            "secure-aggregation", "secure-aggregation-dropouts", "secure-aggregation-clip", "secure-aggregation-max-samples", "secure-aggregation-step-deadline");

        var id = job.RequiredString("id", "wordnet");
        if (!JobIdPattern().IsMatch(id))
            throw job.Error("id", $"= \"{id}\" may hold only letters, digits, '-', '_' and '.'; rename it, e.g. wordnet-2");
        var strategy = job.Choice("strategy", job.RequiredString("strategy", "fedcollm"), strategies.Order(StringComparer.Ordinal).ToArray());
        if (!job.Has("rounds")) throw job.Error("rounds", "missing; set it to the number of rounds, e.g. rounds = 4");
        var rounds = job.Int("rounds", 0);
        if (rounds < 1) throw job.Error("rounds", $"= {rounds}; set it to at least 1");

        var clientsSection = job.Section("clients", "enrolled", "quorum", "public-keys");
        var (enrolled, quorum) = Clients(clientsSection, strategy);
        var publicKeys = PublicKeys(clientsSection, enrolled);
        var deadlines = job.Section("deadlines", "client-training", "aggregation", "max-round-attempts");
        var maxAttempts = deadlines.Int("max-round-attempts", 3);
        if (maxAttempts < 1) throw deadlines.Error("max-round-attempts", $"= {maxAttempts}; set it to at least 1 (how often a failed round is retried from its start)");

        var lora = job.Section("lora", "slm", "llm");
        var training = job.Section("training", "client", "slm-distillation", "llm-distillation", "llm-fine-tuning");
        var defaults = new JobPhase();
        var fineTuning = training.Has("llm-fine-tuning") ? Phase(training, "llm-fine-tuning", defaults, "job.training.client.max-examples") : null;
        if (fineTuning is not null && strategy == LlmPublic)
            throw training.Error("llm-fine-tuning", $"strategy {LlmPublic} trains the LLM on the public set with training.llm-distillation's settings (as FedCoLLM's SLM → LLM step does); set them there and remove this block");
        if (fineTuning is not null && strategy != Centralized)
            throw training.Error("llm-fine-tuning", $"only strategy {Centralized} fine-tunes the LLM on the server; remove the block");
        var modelsSection = job.Section("models", "slm", "llm");
        var models = new JobModels(Model(modelsSection, "slm"), Model(modelsSection, "llm"));
        SameTokenizer(modelsSection, models);

        return new JobDefinition
        {
            Id = id,
            Strategy = strategy,
            Rounds = rounds,
            Seed = job.Long("seed", 42),
            Models = models,
            Lora = new JobLora(Lora(lora.Section("slm", LoraKeys)), Lora(lora.Section("llm", LoraKeys))),
            Training = new JobTraining(
                Phase(training, "client", defaults, null),
                Phase(training, "slm-distillation", defaults, null),
                Phase(training, "llm-distillation", defaults with { LearningRate = 1e-3 }, "job.training.slm-distillation.max-examples"),
                fineTuning),
            Distillation = Distillation(job.Section("distillation", "lambda", "temperature", "top-k", "scale-kd-by-t-squared", "reduction", "public-ce")),
            Data = Data(job.Section("data", "prompt", "max-length", "public-set", "server-training-set", "evaluation"), strategy),
            Enrolled = enrolled,
            Quorum = quorum,
            PublicKeys = publicKeys,
            ClientTrainingDeadline = deadlines.Duration("client-training", TimeSpan.FromMinutes(30)),
            AggregationDeadline = deadlines.Duration("aggregation", TimeSpan.FromMinutes(5)),
            MaxRoundAttempts = maxAttempts,
            Compute = Compute(job.Section("compute", "device", "threads", "dtype")),
            SecureAggregation = SecureAggregation(job, strategy, enrolled.Count, quorum),
            Updates = Updates(job.Section("updates", "max-norm-ratio")),
            AdapterWireDtype = WireDtype(job.Section("adapters", "wire-dtype"), job.Bool("secure-aggregation", false)),
        };
    }

    /// <summary><c>job.adapters.wire-dtype</c>. Secure aggregation encodes each update in its own fixed point (clip and
    /// scale from the secure-aggregation keys) and sends masked field elements, never a half-precision adapter, so the
    /// combination is refused rather than silently ignored.</summary>
    static AdapterWireDtype WireDtype(JobSection s, bool secureAggregation)
    {
        var dtype = AdapterWireDtypes.Parse(s.Choice("wire-dtype", "float32", AdapterWireDtypes.Names));
        if (dtype != AdapterWireDtype.Float32 && secureAggregation)
            throw s.Error("wire-dtype", $"= {dtype.Name()} with secure-aggregation = on: secure aggregation sends each update in its own fixed-point encoding (secure-aggregation-clip), not as an adapter; set wire-dtype = float32 or secure-aggregation = off");
        return dtype;
    }

    static readonly string[] SecureAggregationSettings = ["secure-aggregation-dropouts", "secure-aggregation-clip", "secure-aggregation-max-samples", "secure-aggregation-step-deadline"];

    /// <summary>Off unless <c>secure-aggregation = on</c>. t defaults to enrolled − max(quorum, ⌊enrolled/2⌋ + 1): the
    /// round still needs the quorum, and the threshold must be a majority.</summary>
    static JobSecureAggregation? SecureAggregation(JobSection job, string strategy, int clients, int quorum)
    {
        if (!job.Bool("secure-aggregation", false))
        {
            if (SecureAggregationSettings.FirstOrDefault(job.Has) is { } stray)
                throw job.Error(stray, "is set but secure-aggregation is off; set secure-aggregation = on, or remove the key");
            return null;
        }
        if (strategy is not ("fedavg" or "fedcollm" or Centralized))
            throw job.Error("secure-aggregation", $"= on, but strategy {strategy} does not average client updates; use fedavg or fedcollm, or set it off");
        if (clients < 2)
            throw job.Error("secure-aggregation", $"= on with {clients} enrolled client; the sum of one client's update is that update, enrol at least 2");
        int dropouts = (int)job.Long("secure-aggregation-dropouts", clients - Math.Max(quorum, clients / 2 + 1));
        if (dropouts < 0 || 2 * dropouts >= clients)
            throw job.Error("secure-aggregation-dropouts", $"= {dropouts}; with {clients} enrolled clients set it between 0 and {(clients - 1) / 2} (the clients that must finish, enrolled − t, have to be a majority)");
        double clip = job.Double("secure-aggregation-clip", 0.5);
        long maxSamples = job.Long("secure-aggregation-max-samples", 100_000);
        if (!(clip > 0))
            throw job.Error("secure-aggregation-clip", $"= {clip}; set it to the largest |change| of an adapter weight in one round to keep, e.g. 0.5");
        if (maxSamples < 1)
            throw job.Error("secure-aggregation-max-samples", $"= {maxSamples}; set it to at least the largest client training set, e.g. 100000");
        // The fixed-point scale must leave room in 32-bit words for K clients at the clip with the most samples.
        try { _ = new FedCoLLM.Learning.SecureAggregation.FixedPoint(clip, maxSamples, clients); }
        catch (ArgumentException e) { throw job.Error("secure-aggregation-clip", $"= {clip} with secure-aggregation-max-samples = {maxSamples}: {e.Message}"); }
        var deadline = job.Duration("secure-aggregation-step-deadline", TimeSpan.FromMinutes(5));
        return new JobSecureAggregation(dropouts, clip, maxSamples, deadline);
    }

    /// <summary>A block, a comma and a key (in a list of blocks, "}, {" is accepted).</summary>
    [GeneratedRegex(@"\}[ \t]*,\s*[A-Za-z0-9_""-]")]
    private static partial Regex BlockThenComma();

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex JobIdPattern();

    static (IReadOnlyList<string> Enrolled, int Quorum) Clients(JobSection clients, string strategy)
    {
        var enrolled = clients.Strings("enrolled", null, "[noun.animal, noun.plant]");
        for (int i = 0; i < enrolled.Count; i++)
            if (!JobIdPattern().IsMatch(enrolled[i]))
                throw clients.Error($"enrolled[{i}]", $"= \"{enrolled[i]}\" may hold only letters, digits, '-', '_' and '.'; a client id names a node, never a path (each client node says locally where its data is)");
        if (enrolled.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
            throw clients.Error("enrolled", $"names {duplicate.Key} more than once; list each client once");
        if (enrolled.Count == 0 && !NeedsNoClients(strategy))
            throw clients.Error("enrolled", $"is empty; enrol at least one client (only strategies {ZeroShot} and {LlmPublic}, whose rounds have no client phase, run without clients)");
        if (strategy == Standalone && enrolled.Count != 1)
            throw clients.Error("enrolled", $"has {enrolled.Count} clients; strategy {Standalone} trains exactly one, enrol one");
        var quorum = clients.Int("quorum", Math.Max(1, (enrolled.Count + 1) / 2));
        if (quorum < 1)
            throw clients.Error("quorum", $"= {quorum}; set it to at least 1 (the client updates a round needs before it aggregates)");
        if (quorum > enrolled.Count && !NeedsNoClients(strategy))
            throw clients.Error("quorum", $"= {quorum} but only {enrolled.Count} clients are enrolled; a round could never aggregate, set it to at most {enrolled.Count}");
        return (enrolled, quorum);
    }

    /// <summary><c>clients.public-keys = [{ id = …, key = "ed25519:…" }, …]</c>: absent, or one well-formed key for every
    /// enrolled client and for no one else.</summary>
    static IReadOnlyDictionary<string, string> PublicKeys(JobSection clients, IReadOnlyList<string> enrolled)
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!clients.Has("public-keys")) return keys;
        var entries = clients.Sections("public-keys", "id", "key");
        foreach (var entry in entries)
        {
            var id = entry.RequiredString("id", "noun.animal");
            if (!enrolled.Contains(id, StringComparer.Ordinal))
                throw entry.Error("id", $"= \"{id}\" is not in clients.enrolled ({string.Join(", ", enrolled)}); enrol the client or remove its key");
            if (keys.ContainsKey(id))
                throw entry.Error("id", $"= \"{id}\" has a key already; give each client one key");
            var key = entry.RequiredString("key", "\"ed25519:…\" (the line `fedcollm keys new` wrote to ID.pub)");
            if (Identity.ClientPublicKey.Problem(key) is { } problem)
                throw entry.Error("key", $"= \"{key}\" {problem}");
            keys[id] = key;
        }
        if (enrolled.FirstOrDefault(id => !keys.ContainsKey(id)) is { } unkeyed)
            throw clients.Error("public-keys", $"has no key for enrolled client {unkeyed}; a job that enrols keys enrols one for every client (make it with `fedcollm keys new --client-id {unkeyed}` on that client's node)");
        return keys;
    }

    static JobModel Model(JobSection models, string name)
    {
        var model = models.Section(name, "path", "sha256");
        var path = model.RequiredString("path", $"\"models/wordnet-{name}\"");
        if (!Directory.Exists(path))
            throw model.Error("path", $"= \"{path}\" does not exist (relative paths resolve against {Environment.CurrentDirectory}); point it at a Hugging Face model directory");
        if (!File.Exists(Path.Combine(path, PretrainedModels.ConfigFile)))
            throw model.Error("path", $"= \"{path}\" has no {PretrainedModels.ConfigFile}; point it at a Hugging Face model directory (config.json, model.safetensors, tokenizer files)");
        var files = DirectoryFingerprint.Files(path);
        var hash = DirectoryFingerprint.Hash(files);
        if (model.OptionalString("sha256") is { } expected && !string.Equals(expected, hash, StringComparison.OrdinalIgnoreCase))
            throw model.Error("sha256", $"= {expected} but the content hash of {path} is {hash}; the directory is not the model the job expects (restore that model, or set sha256 to the new hash if the change is intended)");
        return new JobModel(path, hash, files);
    }

    static void SameTokenizer(JobSection models, JobModels m)
    {
        var slm = TokenizerFiles.Where(m.Slm.Files.ContainsKey).ToArray();
        var llm = TokenizerFiles.Where(m.Llm.Files.ContainsKey).ToArray();
        if (slm.Length == 0)
            throw models.Error("slm.path", $"= \"{m.Slm.Path}\" holds no tokenizer file ({string.Join(", ", TokenizerFiles)})");
        if (!slm.SequenceEqual(llm))
            throw models.Error("llm.path", $"= \"{m.Llm.Path}\" has tokenizer files [{string.Join(", ", llm)}] but {m.Slm.Path} has [{string.Join(", ", slm)}]; FedCoLLM distils logits token by token, so both models must share one tokenizer");
        foreach (var name in slm)
            if (m.Slm.Files[name] != m.Llm.Files[name])
                throw models.Error("llm.path", $"= \"{m.Llm.Path}\": its {name} differs from {m.Slm.Path}'s ({DirectoryFingerprint.Short(m.Llm.Files[name])} vs {DirectoryFingerprint.Short(m.Slm.Files[name])}); FedCoLLM distils logits token by token, so both models must share one tokenizer");
    }

    static readonly string[] LoraKeys = ["r", "alpha", "dropout", "targets"];

    static LoraConfig Lora(JobSection s)
    {
        var config = new LoraConfig(s.Int("r", 8), s.Double("alpha", 16), s.Double("dropout", 0.05),
            s.Strings("targets", ["c_attn", "c_fc", "c_proj"], "[c_attn, c_fc, c_proj]"));
        Validated(s, () => config.Validate(), ("Rank", "r"), ("Alpha", "alpha"), ("Dropout", "dropout"), ("TargetModules", "targets"));
        return config;
    }

    static readonly string[] PhaseKeys =
    [
        "epochs", "batch-size", "gradient-accumulation", "max-steps", "learning-rate", "schedule", "warmup-ratio",
        "weight-decay", "max-grad-norm", "max-examples",
    ];

    /// <param name="capElsewhere">Where this phase's example cap is set instead, when the learning core has no cap of its own for it.</param>
    static JobPhase Phase(JobSection training, string name, JobPhase d, string? capElsewhere)
    {
        var s = training.Section(name, PhaseKeys);
        if (capElsewhere is not null && s.Has("max-examples"))
            throw s.Error("max-examples", $"this phase has no cap of its own; it uses {capElsewhere}, set it there");
        var phase = new JobPhase
        {
            Epochs = s.Int("epochs", d.Epochs),
            BatchSize = s.Int("batch-size", d.BatchSize),
            GradientAccumulation = s.Int("gradient-accumulation", d.GradientAccumulation),
            MaxSteps = s.NullableInt("max-steps", d.MaxSteps),
            LearningRate = s.Double("learning-rate", d.LearningRate),
            Schedule = s.Choice("schedule", d.Schedule == LearningRateScheduleKind.Constant ? "constant" : "cosine-with-warmup", "constant", "cosine-with-warmup") == "constant"
                ? LearningRateScheduleKind.Constant : LearningRateScheduleKind.CosineWithWarmup,
            WarmupRatio = s.Double("warmup-ratio", d.WarmupRatio),
            WeightDecay = s.Double("weight-decay", d.WeightDecay),
            MaxGradNorm = s.Double("max-grad-norm", d.MaxGradNorm),
            MaxExamples = s.NullableInt("max-examples", d.MaxExamples),
        };
        if (phase.MaxExamples is < 1)
            throw s.Error("max-examples", $"= {phase.MaxExamples}; set it to at least 1, or null to use every example");
        // data.max-length is checked on its own; 128 keeps this phase's check to the phase's own keys.
        var settings = phase.ToSettings(maxLength: 128);
        Validated(s, settings.Validate, ("Epochs", "epochs"), ("BatchSize", "batch-size"), ("GradientAccumulationSteps", "gradient-accumulation"),
            ("MaxSteps", "max-steps"), ("LearningRate", "learning-rate"), ("WeightDecay", "weight-decay"), ("MaxGradNorm", "max-grad-norm"),
            ("WarmupRatio", "warmup-ratio"));
        return phase;
    }

    static DistillationSettings Distillation(JobSection s)
    {
        var settings = new DistillationSettings
        {
            Lambda = s.Double("lambda", 1.0),
            Kd = new DistillationOptions(
                Temperature: s.Double("temperature", 1.0),
                TopK: s.Int("top-k", 64),
                Reduction: s.Choice("reduction", "mean", "mean", "sum") == "mean" ? DistillationReduction.Mean : DistillationReduction.Sum,
                ScaleByTemperatureSquared: s.Bool("scale-kd-by-t-squared", false)),
            PublicCrossEntropy = s.Bool("public-ce", true),
        };
        // Both keys together leave no loss at all: name both, and the two ways out.
        if (!settings.PublicCrossEntropy && settings.Lambda == 0)
            throw s.Error("public-ce", $"= false with {s.KeyOf("lambda")} = 0: the distillation loss would have neither the public set's CE nor the KD term; set lambda > 0 (KD only) or public-ce = true (CE only)");
        Validated(s, settings.Validate, ("Lambda", "lambda"));
        Validated(s, settings.Kd.Validate, ("Temperature", "temperature"), ("TopK", "top-k"));
        return settings;
    }

    static JobData Data(JobSection data, string strategy)
    {
        var prompt = Prompt(data.Section("prompt", "file", "template", "answer"));
        var maxLength = data.Int("max-length", 128);
        if (maxLength < 2)
            throw data.Error("max-length", $"= {maxLength}; set it to at least 2 tokens and at most the models' context (n_positions), e.g. 128");
        var publicSet = DataFile(data, "public-set", data.RequiredString("public-set", "\"data/wordnet/public/train.jsonl\""));
        var trainingPath = data.OptionalString("server-training-set");
        if (strategy == Centralized && trainingPath is null)
            throw data.Error("server-training-set", $"missing; strategy {Centralized} fine-tunes the LLM on a training set the server holds, name it");
        if (strategy != Centralized && trainingPath is not null)
            throw data.Error("server-training-set", $"is set but only strategy {Centralized} trains on the server; remove it (client data never appears in a job)");
        var e = data.Section("evaluation", "sets", "max-items", "public-items", "batch-size", "score-baseline", "evaluate-llm");
        var sets = e.Has("sets") ? e.Sections("sets", "name", "path") : [];
        var evaluationSets = sets.Select(s => new { Name = s.RequiredString("name", "noun.animal"), Section = s }).ToArray();
        if (evaluationSets.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
            throw e.Error("sets", $"names {duplicate.Key} more than once; give each evaluation set its own name");
        var evaluation = new JobEvaluation(
            evaluationSets.Select(s =>
            {
                var file = DataFile(s.Section, "path", s.Section.RequiredString("path", "\"data/wordnet/clients/noun.animal/test.jsonl\""));
                return new JobEvaluationSet(s.Name, file.Path, file.Sha256);
            }).ToArray(),
            Positive(e, "max-items"), Positive(e, "public-items"), e.Int("batch-size", 64), e.Bool("score-baseline", true), e.Bool("evaluate-llm", true));
        if (evaluation.BatchSize < 1) throw e.Error("batch-size", $"= {evaluation.BatchSize}; set it to at least 1, e.g. 64");
        return new JobData(prompt, maxLength, publicSet,
            trainingPath is null ? null : DataFile(data, "server-training-set", trainingPath), evaluation);
    }

    static int? Positive(JobSection s, string key)
    {
        var value = s.NullableInt(key, null);
        return value is < 1 ? throw s.Error(key, $"= {value}; set it to at least 1, or null for all") : value;
    }

    static QaPromptFormat Prompt(JobSection p)
    {
        if (p.OptionalString("file") is { } file)
        {
            if (p.Has("template") || p.Has("answer"))
                throw p.Error("file", "is set together with template/answer; give either file or template and answer");
            try { return QaPromptFormat.Load(file); }
            catch (Exception ex) when (ex is IOException or InvalidDataException or System.Text.Json.JsonException or InvalidOperationException or UnauthorizedAccessException)
            {
                throw p.Error("file", $"= \"{file}\" cannot be read as a prompt.json {{\"prompt\": \"… {{question}} …\", \"answer\": \" {{answer}}\"}}: {ex.Message}", ex);
            }
        }
        var format = new QaPromptFormat(p.String("template", QaPromptFormat.Default.PromptTemplate), p.String("answer", QaPromptFormat.Default.AnswerTemplate));
        if (!format.PromptTemplate.Contains("{question}", StringComparison.Ordinal))
            throw p.Error("template", $"= \"{format.PromptTemplate}\" lacks the {{question}} placeholder; add it, e.g. \"Question: {{question}}\\nAnswer:\"");
        if (!format.AnswerTemplate.Contains("{answer}", StringComparison.Ordinal))
            throw p.Error("answer", $"= \"{format.AnswerTemplate}\" lacks the {{answer}} placeholder; add it, e.g. \" {{answer}}\"");
        return format;
    }

    /// <summary>Checks that the file exists and is multiple-choice JSONL in a schema the loader knows (a bad line is
    /// named by file:line), then hashes it.</summary>
    static JobDataFile DataFile(JobSection s, string key, string path)
    {
        if (!File.Exists(path))
            throw s.Error(key, $"= \"{path}\" does not exist (relative paths resolve against {Environment.CurrentDirectory}); point it at a multiple-choice JSONL file");
        IReadOnlyList<MultipleChoiceItem> items;
        try { items = MultipleChoiceJsonl.Load(path); }
        catch (MultipleChoiceFormatException ex) { throw s.Error(key, $"= \"{path}\" is not multiple-choice JSONL: {ex.Message}", ex); }
        if (items.Count == 0) throw s.Error(key, $"= \"{path}\" holds no questions");
        return new JobDataFile(path, DirectoryFingerprint.OfFile(path));
    }

    static JobUpdates Updates(JobSection s)
    {
        var ratio = s.Double("max-norm-ratio", JobUpdates.Default.MaxNormRatio);
        if (ratio <= 0) throw s.Error("max-norm-ratio", $"= {ratio}; set it to a positive number (how many times the round's adapter norm an update may move it), e.g. 10");
        return new JobUpdates(ratio);
    }

    static JobCompute Compute(JobSection s)
    {
        var device = s.Choice("device", "cpu", "cpu", "cuda");
        var threads = s.Int("threads", 2);
        if (threads < 1) throw s.Error("threads", $"= {threads}; set it to at least 1 (the machine's core count)");
        var dtype = s.Choice("dtype", "float32", "float32");
        return new JobCompute(device, threads, dtype);
    }

    /// <summary>Runs a learning type's own Validate() and re-keys its message from the C# field to the job-file key.</summary>
    static void Validated(JobSection s, Action validate, params (string Field, string Key)[] keys)
    {
        try { validate(); }
        catch (ArgumentException ex)
        {
            var key = keys.FirstOrDefault(k => k.Field == ex.ParamName).Key ?? keys[0].Key;
            throw s.Error(key, Problem(ex.Message), ex);
        }
    }

    /// <summary>"LoraConfig.Rank (r) = 0; it must be at least 1. (Parameter 'Rank')" → "= 0; it must be at least 1.":
    /// the learning types name their C# field first; the job-file key replaces it.</summary>
    static string Problem(string message)
    {
        int param = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (param >= 0) message = message[..param];
        int equals = message.IndexOf(" = ", StringComparison.Ordinal), @is = message.IndexOf(" is ", StringComparison.Ordinal);
        int at = equals < 0 ? @is : @is < 0 ? equals : Math.Min(equals, @is);
        return at < 0 ? message : message[(at + 1)..];
    }
}

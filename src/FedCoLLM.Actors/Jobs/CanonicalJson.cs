using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Actors.Jobs;

/// <summary>
/// The canonical bytes of a <see cref="JobDefinition"/>: UTF-8 JSON, two-space indent, '\n' line ends, keys as in the
/// job file in the order docs/jobs.md lists them, doubles in their shortest round-trip form, durations as
/// <see cref="JobDuration"/> writes them. Written and read by hand rather than by a serializer so that the byte layout
/// is fixed by this file alone, not by a library's property-order or number-format choices.
/// </summary>
internal static class CanonicalJson
{
    static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        IndentSize = 2,
        NewLine = "\n",
        // Prompts hold quotes and non-ASCII text; escaping them would only make the bytes harder to read.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static byte[] Write(JobDefinition job)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            w.WriteString("id", job.Id);
            w.WriteString("strategy", job.Strategy);
            w.WriteNumber("rounds", job.Rounds);
            w.WriteNumber("seed", job.Seed);
            w.WriteStartObject("models");
            Model(w, "slm", job.Models.Slm);
            Model(w, "llm", job.Models.Llm);
            w.WriteEndObject();
            w.WriteStartObject("lora");
            Lora(w, "slm", job.Lora.Slm);
            Lora(w, "llm", job.Lora.Llm);
            w.WriteEndObject();
            w.WriteStartObject("training");
            Phase(w, "client", job.Training.Client);
            Phase(w, "slm-distillation", job.Training.SlmDistillation);
            Phase(w, "llm-distillation", job.Training.LlmDistillation);
            Phase(w, "llm-fine-tuning", job.Training.LlmFineTuning);
            w.WriteEndObject();
            w.WriteStartObject("distillation");
            Number(w, "lambda", job.Distillation.Lambda);
            Number(w, "temperature", job.Distillation.Kd.Temperature);
            w.WriteNumber("top-k", job.Distillation.Kd.TopK);
            w.WriteBoolean("scale-kd-by-t-squared", job.Distillation.Kd.ScaleByTemperatureSquared);
            w.WriteString("reduction", job.Distillation.Kd.Reduction == DistillationReduction.Mean ? "mean" : "sum");
            // Written only when off (the KD-only ablation), so every job with the CE keeps the bytes (and hash) it always had.
            if (!job.Distillation.PublicCrossEntropy) w.WriteBoolean("public-ce", false);
            w.WriteEndObject();
            Data(w, job.Data);
            w.WriteStartObject("clients");
            w.WriteStartArray("enrolled");
            foreach (var id in job.Enrolled) w.WriteStringValue(id);
            w.WriteEndArray();
            w.WriteNumber("quorum", job.Quorum);
            // Written only when keys are enrolled, so a job without them keeps the bytes (and hash) it always had.
            if (job.PublicKeys.Count > 0)
            {
                w.WriteStartArray("public-keys");
                foreach (var (id, key) in job.PublicKeys.OrderBy(k => k.Key, StringComparer.Ordinal))
                {
                    w.WriteStartObject();
                    w.WriteString("id", id);
                    w.WriteString("key", key);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteStartObject("deadlines");
            w.WriteString("client-training", JobDuration.Format(job.ClientTrainingDeadline));
            w.WriteString("aggregation", JobDuration.Format(job.AggregationDeadline));
            w.WriteNumber("max-round-attempts", job.MaxRoundAttempts);
            w.WriteEndObject();
            w.WriteStartObject("updates");
            Number(w, "max-norm-ratio", job.Updates.MaxNormRatio);
            w.WriteEndObject();
            w.WriteStartObject("compute");
            w.WriteString("device", job.Compute.Device);
            w.WriteNumber("threads", job.Compute.Threads);
            w.WriteString("dtype", job.Compute.Dtype);
            w.WriteEndObject();
            // Written only when on, so every job without it keeps the bytes (and hash) it always had.
            if (job.SecureAggregation is { } secure)
            {
                w.WriteStartObject("secure-aggregation");
                w.WriteNumber("dropouts", secure.Dropouts);
                Number(w, "clip", secure.Clip);
                w.WriteNumber("max-samples", secure.MaxSamples);
                w.WriteString("step-deadline", JobDuration.Format(secure.StepDeadline));
                w.WriteEndObject();
            }
            // Written only when not float32, so every job without it keeps the bytes (and hash) it always had.
            if (job.AdapterWireDtype != AdapterWireDtype.Float32)
            {
                w.WriteStartObject("adapters");
                w.WriteString("wire-dtype", job.AdapterWireDtype.Name());
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    static void Model(Utf8JsonWriter w, string name, JobModel model)
    {
        w.WriteStartObject(name);
        w.WriteString("path", model.Path);
        w.WriteString("sha256", model.Sha256);
        w.WriteStartObject("files");
        foreach (var (file, hash) in model.Files.OrderBy(f => f.Key, StringComparer.Ordinal)) w.WriteString(file, hash);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    static void Lora(Utf8JsonWriter w, string name, LoraConfig lora)
    {
        w.WriteStartObject(name);
        w.WriteNumber("r", lora.Rank);
        Number(w, "alpha", lora.Alpha);
        Number(w, "dropout", lora.Dropout);
        w.WriteStartArray("targets");
        foreach (var t in lora.TargetModules) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static void Phase(Utf8JsonWriter w, string name, JobPhase? phase)
    {
        if (phase is null) { w.WriteNull(name); return; }
        w.WriteStartObject(name);
        w.WriteNumber("epochs", phase.Epochs);
        w.WriteNumber("batch-size", phase.BatchSize);
        w.WriteNumber("gradient-accumulation", phase.GradientAccumulation);
        NullableNumber(w, "max-steps", phase.MaxSteps);
        Number(w, "learning-rate", phase.LearningRate);
        w.WriteString("schedule", phase.Schedule == LearningRateScheduleKind.Constant ? "constant" : "cosine-with-warmup");
        Number(w, "warmup-ratio", phase.WarmupRatio);
        Number(w, "weight-decay", phase.WeightDecay);
        Number(w, "max-grad-norm", phase.MaxGradNorm);
        NullableNumber(w, "max-examples", phase.MaxExamples);
        w.WriteEndObject();
    }

    static void Data(Utf8JsonWriter w, JobData data)
    {
        w.WriteStartObject("data");
        w.WriteStartObject("prompt");
        w.WriteString("template", data.Prompt.PromptTemplate);
        w.WriteString("answer", data.Prompt.AnswerTemplate);
        w.WriteEndObject();
        w.WriteNumber("max-length", data.MaxLength);
        w.WriteString("public-set", data.PublicSet.Path);
        w.WriteString("public-set-sha256", data.PublicSet.Sha256);
        w.WriteString("server-training-set", data.ServerTrainingSet?.Path);
        w.WriteString("server-training-set-sha256", data.ServerTrainingSet?.Sha256);
        var e = data.Evaluation;
        w.WriteStartObject("evaluation");
        w.WriteStartArray("sets");
        foreach (var set in e.Sets)
        {
            w.WriteStartObject();
            w.WriteString("name", set.Name);
            w.WriteString("path", set.Path);
            w.WriteString("sha256", set.Sha256);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        NullableNumber(w, "max-items", e.MaxItems);
        NullableNumber(w, "public-items", e.PublicItems);
        w.WriteNumber("batch-size", e.BatchSize);
        w.WriteBoolean("score-baseline", e.ScoreBaseline);
        w.WriteBoolean("evaluate-llm", e.EvaluateLlm);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>"R" is the shortest string that parses back to the same double (on .NET Core 3.0 and later).</summary>
    static void Number(Utf8JsonWriter w, string name, double value)
    {
        w.WritePropertyName(name);
        w.WriteRawValue(value.ToString("R", CultureInfo.InvariantCulture));
    }

    static void NullableNumber(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v) w.WriteNumber(name, v); else w.WriteNull(name);
    }

    public static JobDefinition Read(byte[] bytes)
    {
        JsonObject root;
        try { root = JsonNode.Parse(bytes)?.AsObject() ?? throw Bad("", "is empty"); }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException) { throw Bad("", $"is not a JSON object: {ex.Message}"); }
        var r = new Reader(root, "");
        var models = r.Object("models");
        var lora = r.Object("lora");
        var training = r.Object("training");
        var distillation = r.Object("distillation");
        var data = r.Object("data");
        var evaluation = data.Object("evaluation");
        var clients = r.Object("clients");
        var deadlines = r.Object("deadlines");
        var compute = r.Object("compute");
        var updates = r.Object("updates");
        var job = new JobDefinition
        {
            Id = r.String("id"),
            Strategy = r.String("strategy"),
            Rounds = r.Int("rounds"),
            Seed = r.Long("seed"),
            Models = new JobModels(ReadModel(models.Object("slm")), ReadModel(models.Object("llm"))),
            Lora = new JobLora(ReadLora(lora.Object("slm")), ReadLora(lora.Object("llm"))),
            Training = new JobTraining(ReadPhase(training.Object("client")), ReadPhase(training.Object("slm-distillation")),
                ReadPhase(training.Object("llm-distillation")), training.IsNull("llm-fine-tuning") ? null : ReadPhase(training.Object("llm-fine-tuning"))),
            Distillation = new DistillationSettings
            {
                Lambda = distillation.Double("lambda"),
                Kd = new DistillationOptions(distillation.Double("temperature"), distillation.Int("top-k"),
                    distillation.String("reduction") switch
                    {
                        "mean" => DistillationReduction.Mean,
                        "sum" => DistillationReduction.Sum,
                        var other => throw Bad("distillation.reduction", $"= \"{other}\" is not mean or sum"),
                    },
                    distillation.Bool("scale-kd-by-t-squared")),
                PublicCrossEntropy = !distillation.Node.ContainsKey("public-ce") || distillation.Bool("public-ce"),
            },
            Data = new JobData(
                new QaPromptFormat(data.Object("prompt").String("template"), data.Object("prompt").String("answer")),
                data.Int("max-length"),
                new JobDataFile(data.String("public-set"), data.String("public-set-sha256")),
                data.IsNull("server-training-set") ? null : new JobDataFile(data.String("server-training-set"), data.String("server-training-set-sha256")),
                new JobEvaluation(
                    evaluation.Objects("sets").Select(s => new JobEvaluationSet(s.String("name"), s.String("path"), s.String("sha256"))).ToArray(),
                    evaluation.NullableInt("max-items"), evaluation.NullableInt("public-items"), evaluation.Int("batch-size"),
                    evaluation.Bool("score-baseline"), evaluation.Bool("evaluate-llm"))),
            Enrolled = clients.Strings("enrolled"),
            Quorum = clients.Int("quorum"),
            PublicKeys = clients.Node.ContainsKey("public-keys")
                ? clients.Objects("public-keys").ToDictionary(k => k.String("id"), k => k.String("key"), StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal),
            ClientTrainingDeadline = deadlines.Duration("client-training"),
            AggregationDeadline = deadlines.Duration("aggregation"),
            MaxRoundAttempts = deadlines.Int("max-round-attempts"),
            Compute = new JobCompute(compute.String("device"), compute.Int("threads"), compute.String("dtype")),
            SecureAggregation = root.ContainsKey("secure-aggregation") && r.Object("secure-aggregation") is { } s
                ? new JobSecureAggregation(s.Int("dropouts"), s.Double("clip"), s.Long("max-samples"), s.Duration("step-deadline"))
                : null,
            Updates = new JobUpdates(updates.Double("max-norm-ratio")),
            AdapterWireDtype = root.ContainsKey("adapters") ? WireDtype(r.Object("adapters").String("wire-dtype")) : AdapterWireDtype.Float32,
        };
        if (!job.CanonicalBytes().AsSpan().SequenceEqual(bytes))
            throw Bad("", "is not in canonical form (keys missing, extra, reordered or reformatted); send the bytes CanonicalBytes() wrote");
        return job;
    }

    static AdapterWireDtype WireDtype(string name)
    {
        try { return AdapterWireDtypes.Parse(name); }
        catch (ArgumentException e) { throw Bad("adapters.wire-dtype", $"= \"{name}\": {e.Message}"); }
    }

    static JobModel ReadModel(Reader m) =>
        new(m.String("path"), m.String("sha256"), new SortedDictionary<string, string>(
            m.Object("files").Node.ToDictionary(f => f.Key, f => m.Object("files").String(f.Key)), StringComparer.Ordinal));

    static LoraConfig ReadLora(Reader l) => new(l.Int("r"), l.Double("alpha"), l.Double("dropout"), l.Strings("targets"));

    static JobPhase ReadPhase(Reader p) => new()
    {
        Epochs = p.Int("epochs"),
        BatchSize = p.Int("batch-size"),
        GradientAccumulation = p.Int("gradient-accumulation"),
        MaxSteps = p.NullableInt("max-steps"),
        LearningRate = p.Double("learning-rate"),
        Schedule = p.String("schedule") switch
        {
            "constant" => LearningRateScheduleKind.Constant,
            "cosine-with-warmup" => LearningRateScheduleKind.CosineWithWarmup,
            var other => throw Bad(p.KeyOf("schedule"), $"= \"{other}\" is not constant or cosine-with-warmup"),
        },
        WarmupRatio = p.Double("warmup-ratio"),
        WeightDecay = p.Double("weight-decay"),
        MaxGradNorm = p.Double("max-grad-norm"),
        MaxExamples = p.NullableInt("max-examples"),
    };

    static JobFileException Bad(string key, string problem) =>
        new(key.Length == 0 ? "job" : key, $"canonical job{(key.Length == 0 ? "" : ": " + key)}: {problem}");

    /// <summary>Typed access to one object of the canonical JSON; a missing key or a wrong type names the key.</summary>
    sealed class Reader(JsonObject node, string path)
    {
        public JsonObject Node => node;
        public string KeyOf(string key) => path.Length == 0 ? key : $"{path}.{key}";
        public bool IsNull(string key) => node.TryGetPropertyValue(key, out var v) && v is null;
        public Reader Object(string key) => new(Get(key) as JsonObject ?? throw Bad(KeyOf(key), "is not an object"), KeyOf(key));
        public string String(string key) => Value<string>(key);
        public int Int(string key) => Value<int>(key);
        public int? NullableInt(string key) => IsNull(key) ? null : Value<int>(key);
        public long Long(string key) => Value<long>(key);
        public double Double(string key) => Value<double>(key);
        public bool Bool(string key) => Value<bool>(key);
        public TimeSpan Duration(string key) => JobDuration.TryParse(String(key)) ?? throw Bad(KeyOf(key), "is not a duration");
        public IReadOnlyList<string> Strings(string key) =>
            Array(key).Select((e, i) => e is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw Bad($"{KeyOf(key)}[{i}]", "is not a string")).ToArray();
        public IReadOnlyList<Reader> Objects(string key) =>
            Array(key).Select((e, i) => new Reader(e as JsonObject ?? throw Bad($"{KeyOf(key)}[{i}]", "is not an object"), $"{KeyOf(key)}[{i}]")).ToArray();

        JsonArray Array(string key) => Get(key) as JsonArray ?? throw Bad(KeyOf(key), "is not a list");

        T Value<T>(string key)
        {
            try { return (Get(key) ?? throw Bad(KeyOf(key), "is null")).GetValue<T>(); }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException) { throw Bad(KeyOf(key), $"is not a {typeof(T).Name}"); }
        }

        JsonNode? Get(string key) => node.TryGetPropertyValue(key, out var v) ? v : throw Bad(KeyOf(key), "is missing");
    }

    /// <summary>Walks both canonical trees in key order and names the first leaf that differs.</summary>
    public static string? FirstDifference(byte[] mine, byte[] theirs) =>
        Difference("", JsonNode.Parse(mine), JsonNode.Parse(theirs));

    static string? Difference(string path, JsonNode? a, JsonNode? b)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var key in oa.Select(p => p.Key).Concat(ob.Select(p => p.Key).Where(k => !oa.ContainsKey(k))))
            {
                // File maps are keyed by file names, which hold dots; index them so the path stays readable.
                var child = path.EndsWith(".files", StringComparison.Ordinal) ? $"{path}[\"{key}\"]" : path.Length == 0 ? key : $"{path}.{key}";
                if (!ob.ContainsKey(key)) return $"{child} ({Show(oa[key])} vs missing)";
                if (!oa.ContainsKey(key)) return $"{child} (missing vs {Show(ob[key])})";
                if (Difference(child, oa[key], ob[key]) is { } d) return d;
            }
            return null;
        }
        if (a is JsonArray xa && b is JsonArray xb)
        {
            for (int i = 0; i < Math.Max(xa.Count, xb.Count); i++)
            {
                if (i >= xb.Count) return $"{path}[{i}] ({Show(xa[i])} vs missing)";
                if (i >= xa.Count) return $"{path}[{i}] (missing vs {Show(xb[i])})";
                if (Difference($"{path}[{i}]", xa[i], xb[i]) is { } d) return d;
            }
            return null;
        }
        return JsonNode.DeepEquals(a, b) ? null : $"{path} ({Show(a)} vs {Show(b)})";
    }

    static string Show(JsonNode? value) => value switch
    {
        null => "null",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>() is { Length: 64 } hash && hash.All(char.IsAsciiHexDigitLower)
            ? DirectoryFingerprint.Short(hash) : v.GetValue<string>(),
        JsonObject => "a block",
        JsonArray array => $"{array.Count} items",
        _ => value.ToJsonString(),
    };
}

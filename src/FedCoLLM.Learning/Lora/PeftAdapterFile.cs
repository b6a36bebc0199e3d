using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Lora;

/// <summary>What <c>adapter_config.json</c> says beyond the LoRA hyper-parameters.</summary>
public sealed record PeftAdapterConfig(
    LoraConfig Lora,
    bool FanInFanOut,
    string? BaseModelNameOrPath,
    bool InferenceMode = true,
    string TaskType = "CAUSAL_LM");

/// <summary>
/// A Hugging Face PEFT LoRA adapter directory: <c>adapter_config.json</c> (PEFT's LoraConfig,
/// <c>json.dumps(indent=2, sort_keys=True)</c>) and <c>adapter_model.safetensors</c> with keys
/// <c>base_model.model.&lt;module path&gt;.lora_A.weight</c> [r, in] and <c>.lora_B.weight</c>
/// [out, r] — PEFT's <c>get_peft_model_state_dict</c> drops the adapter name "default". Such a
/// directory loads with <c>PeftModel.from_pretrained(base, dir)</c>, and PEFT-trained adapters of the
/// same shape load here. Writing is deterministic: equal inputs give equal bytes.
/// </summary>
public static class PeftAdapterFile
{
    public const string ConfigFileName = "adapter_config.json";
    public const string WeightsFileName = "adapter_model.safetensors";

    public static void Save(string directory, LoraAdapter adapter, string? baseModelNameOrPath) =>
        Save(directory, new PeftAdapterConfig(adapter.Config, adapter.FanInFanOut, baseModelNameOrPath), adapter.Export());

    /// <param name="dtype">The dtype the weights are written in: a federation's SLM adapter in its wire dtype, so the file is
    /// the committed blob byte for byte (widening to float32 and rounding back is exact).</param>
    public static void Save(string directory, PeftAdapterConfig config, AdapterWeights weights, AdapterWireDtype dtype = AdapterWireDtype.Float32)
    {
        config.Lora.Validate();
        Directory.CreateDirectory(directory);
        WriteAtomically(Path.Combine(directory, ConfigFileName), ConfigJson(config));
        WriteAtomically(Path.Combine(directory, WeightsFileName), weights.ToBytes(dtype));
    }

    /// <summary>Reads both files and checks they agree with each other (every key is a LoRA matrix,
    /// A has r rows and B r columns).</summary>
    public static (PeftAdapterConfig Config, AdapterWeights Weights) Read(string directory)
    {
        var config = ReadConfig(directory);
        var weightsPath = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(weightsPath))
            throw new FileNotFoundException(File.Exists(Path.Combine(directory, "adapter_model.bin"))
                ? $"'{directory}' holds adapter_model.bin (pickle), which is not read here; re-save the adapter with save_pretrained(..., safe_serialization=True)."
                : $"'{directory}' has no {WeightsFileName}; save the adapter with PEFT's save_pretrained.", weightsPath);
        var weights = AdapterWeights.FromBytes(File.ReadAllBytes(weightsPath), weightsPath);
        int r = config.Lora.Rank;
        foreach (var t in weights.Tensors)
        {
            bool isA = t.Name.EndsWith(".lora_A.weight", StringComparison.Ordinal);
            bool isB = t.Name.EndsWith(".lora_B.weight", StringComparison.Ordinal);
            if (!t.Name.StartsWith(LoraAdapter.PeftKeyPrefix, StringComparison.Ordinal) || !(isA || isB))
                throw new InvalidDataException($"{weightsPath}: key '{t.Name}' is not a PEFT LoRA key ('{LoraAdapter.PeftKeyPrefix}<module>.lora_A.weight' or '.lora_B.weight'); only plain LoRA adapters (no modules_to_save, DoRA or biases) are supported.");
            if (t.Shape.Length != 2 || (isA ? t.Shape[0] : t.Shape[1]) != r)
                throw new InvalidDataException($"{weightsPath}: key '{t.Name}' has shape {AdapterTensor.ShapeText(t.Shape)}, but {ConfigFileName} says r = {r}, so it must be {(isA ? $"[{r}, in_features]" : $"[out_features, {r}]")}. The two files come from different adapters; re-save them together.");
        }
        return (config, weights);
    }

    /// <summary>Loads a directory into a model that already carries LoRA: the file's r, lora_alpha and
    /// target_modules must equal the adapter's, and its keys and shapes must match exactly.</summary>
    public static void Load(string directory, LoraAdapter adapter)
    {
        var (config, weights) = Read(directory);
        var path = Path.Combine(directory, ConfigFileName);
        var (file, mine) = (config.Lora, adapter.Config);
        if (file.Rank != mine.Rank)
            throw new InvalidDataException($"{path} has r = {file.Rank} but the model's LoRA has Rank = {mine.Rank}; apply LoRA with the file's config (PeftAdapterFile.ReadConfig) before loading.");
        if (!file.Alpha.Equals(mine.Alpha))
            throw new InvalidDataException($"{path} has lora_alpha = {file.Alpha} but the model's LoRA has Alpha = {mine.Alpha}; the scaling alpha/r would differ. Apply LoRA with the file's config.");
        if (!file.TargetModules.SequenceEqual(mine.TargetModules))
            throw new InvalidDataException($"{path} has target_modules [{string.Join(", ", file.TargetModules)}] but the model's LoRA targets [{string.Join(", ", mine.TargetModules)}]; apply LoRA with the file's config.");
        adapter.Load(weights, Path.Combine(directory, WeightsFileName));
    }

    /// <summary>Applies the directory's config to a bare model and loads its weights.</summary>
    public static LoraAdapter ApplyAndLoad(nn.Module model, string directory)
    {
        var config = ReadConfig(directory);
        var adapter = LoraAdapter.Apply(model, config.Lora, seed: 0);
        Load(directory, adapter);
        return adapter;
    }

    // PEFT's LoraConfig fields as save_pretrained writes them (PEFT 0.10–0.13 field set; newer PEFT
    // fills fields it adds with defaults). Values we do not model are PEFT's defaults.
    public static byte[] ConfigJson(PeftAdapterConfig config)
    {
        var lora = config.Lora;
        var fields = new SortedDictionary<string, Action<Utf8JsonWriter>>(StringComparer.Ordinal)
        {
            ["alpha_pattern"] = w => { w.WriteStartObject(); w.WriteEndObject(); },
            ["auto_mapping"] = w => w.WriteNullValue(),
            ["base_model_name_or_path"] = w => { if (config.BaseModelNameOrPath is null) w.WriteNullValue(); else w.WriteStringValue(config.BaseModelNameOrPath); },
            ["bias"] = w => w.WriteStringValue("none"),
            ["fan_in_fan_out"] = w => w.WriteBooleanValue(config.FanInFanOut),
            ["inference_mode"] = w => w.WriteBooleanValue(config.InferenceMode),
            ["init_lora_weights"] = w => w.WriteBooleanValue(true),
            ["layer_replication"] = w => w.WriteNullValue(),
            ["layers_pattern"] = w => w.WriteNullValue(),
            ["layers_to_transform"] = w => w.WriteNullValue(),
            ["loftq_config"] = w => { w.WriteStartObject(); w.WriteEndObject(); },
            ["lora_alpha"] = w => w.WriteRawValue(PythonNumber(lora.Alpha, preferInt: true)),
            ["lora_dropout"] = w => w.WriteRawValue(PythonNumber(lora.Dropout, preferInt: false)),
            ["megatron_config"] = w => w.WriteNullValue(),
            ["megatron_core"] = w => w.WriteStringValue("megatron.core"),
            ["modules_to_save"] = w => w.WriteNullValue(),
            ["peft_type"] = w => w.WriteStringValue("LORA"),
            ["r"] = w => w.WriteNumberValue(lora.Rank),
            ["rank_pattern"] = w => { w.WriteStartObject(); w.WriteEndObject(); },
            ["revision"] = w => w.WriteNullValue(),
            ["target_modules"] = w => { w.WriteStartArray(); foreach (var t in lora.TargetModules) w.WriteStringValue(t); w.WriteEndArray(); },
            ["task_type"] = w => w.WriteStringValue(config.TaskType),
            ["use_dora"] = w => w.WriteBooleanValue(false),
            ["use_rslora"] = w => w.WriteBooleanValue(false),
        };
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, IndentSize = 2, NewLine = "\n" }))
        {
            w.WriteStartObject();
            foreach (var (name, write) in fields) { w.WritePropertyName(name); write(w); }
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    public static PeftAdapterConfig ReadConfig(string directory)
    {
        var path = Path.Combine(directory, ConfigFileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"'{directory}' has no {ConfigFileName}; a PEFT adapter directory holds {ConfigFileName} and {WeightsFileName}.", path);
        return ParseConfig(File.ReadAllText(path, Encoding.UTF8), path);
    }

    public static PeftAdapterConfig ParseConfig(string json, string source = ConfigFileName)
    {
        JsonObject root;
        try { root = JsonNode.Parse(json)?.AsObject() ?? throw new JsonException("empty document"); }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        { throw new InvalidDataException($"{source} is not a JSON object ({ex.Message})."); }

        string? Str(string key) => root[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        bool Bool(string key, bool fallback) => root[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : fallback;
        InvalidDataException Unsupported(string field, string why) =>
            new($"{source}: {field} {why}, which this implementation does not support; save a plain LoRA adapter ({field} at its default).");

        if (Str("peft_type") != "LORA")
            throw new InvalidDataException($"{source}: peft_type is \"{Str("peft_type") ?? "(missing)"}\"; only \"LORA\" adapters are supported.");
        if (Bool("use_dora", false)) throw Unsupported("use_dora", "is true (DoRA)");
        if (Bool("use_rslora", false)) throw Unsupported("use_rslora", "is true (scaling alpha/√r)");
        if ((Str("bias") ?? "none") != "none") throw Unsupported("bias", $"is \"{Str("bias")}\"");
        foreach (var key in new[] { "rank_pattern", "alpha_pattern" })
            if (root[key] is JsonObject o && o.Count > 0) throw Unsupported(key, "sets per-module values");
        if (root["modules_to_save"] is JsonArray { Count: > 0 }) throw Unsupported("modules_to_save", "lists modules");
        if (root["layers_to_transform"] is JsonArray { Count: > 0 } or JsonValue) throw Unsupported("layers_to_transform", "selects layers");

        if (root["r"] is not JsonValue rv || !rv.TryGetValue<int>(out var r))
            throw new InvalidDataException($"{source}: r is missing or not an integer.");
        double alpha = root["lora_alpha"] is JsonValue av && av.TryGetValue<double>(out var a) ? a
            : throw new InvalidDataException($"{source}: lora_alpha is missing or not a number.");
        double dropout = root["lora_dropout"] is JsonValue dv && dv.TryGetValue<double>(out var d) ? d : 0.0;
        var targets = root["target_modules"] switch
        {
            JsonArray arr => arr.Select(n => n?.GetValue<string>() ?? "").ToList(),
            JsonValue v when v.TryGetValue<string>(out var s) => throw new InvalidDataException(
                $"{source}: target_modules is the string \"{s}\" (a regular expression or \"all-linear\"); list the module names instead, e.g. [\"q_proj\", \"v_proj\"]."),
            _ => throw new InvalidDataException($"{source}: target_modules is missing; list the adapted module names."),
        };
        LoraConfig lora;
        try { lora = new LoraConfig(r, alpha, dropout, targets).Validate(); }
        catch (ArgumentException ex) { throw new InvalidDataException($"{source}: {ex.Message}", ex); }
        return new PeftAdapterConfig(lora, Bool("fan_in_fan_out", false), Str("base_model_name_or_path"),
            Bool("inference_mode", true), Str("task_type") ?? "CAUSAL_LM");
    }

    // json.dumps writes ints as "16" and floats as repr(): "0.05", "16.0".
    static string PythonNumber(double value, bool preferInt)
    {
        if (preferInt && value == Math.Floor(value) && Math.Abs(value) < 1e15)
            return ((long)value).ToString(CultureInfo.InvariantCulture);
        var s = value.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') ? s.Replace("E", "e") : s + ".0";
    }

    static void WriteAtomically(string path, byte[] bytes)
    {
        var tmp = path + ".tmp";
        File.WriteAllBytes(tmp, bytes);
        File.Move(tmp, path, overwrite: true);
    }
}

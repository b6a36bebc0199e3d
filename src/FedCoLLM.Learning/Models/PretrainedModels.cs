using System.Text.Json;
using System.Text.Json.Nodes;
using FedCoLLM.Learning.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Models;

/// <summary>
/// Hugging Face checkpoint directories ↔ our models: <c>config.json</c> picks the family by
/// <c>model_type</c>; weights come from <c>model.safetensors</c> or a sharded
/// <c>model.safetensors.index.json</c>. Tensor names are HF's, so the mapping is the identity except
/// for the few names each model lists in its <c>ParameterNameFor</c>.
/// </summary>
public static class PretrainedModels
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";
    public const string ShardIndexFile = "model.safetensors.index.json";

    /// <summary>Loads config and weights (fp16/bf16 converted to float32) onto <paramref name="options"/>'
    /// device, in evaluation mode as <c>from_pretrained</c> returns it.</summary>
    public static CausalLanguageModel Load(string directory, ComputeOptions options)
    {
        var model = Create(ReadConfig(directory));
        try
        {
            LoadWeights(model, directory);
            model.eval();
            return options.TorchDevice.type == DeviceType.CPU ? model : model.to(options.TorchDevice);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public static ModelConfig ReadConfig(string directory)
    {
        var path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No {ConfigFile} in '{directory}'; a Hugging Face checkpoint directory holds {ConfigFile} next to {WeightsFile}.", path);
        JsonObject root;
        try { root = JsonNode.Parse(File.ReadAllText(path))!.AsObject(); }
        catch (JsonException ex) { throw new InvalidDataException($"'{path}' is not valid JSON: {ex.Message}", ex); }
        var json = new ConfigJson(root, $"'{path}'");
        var modelType = root["model_type"]?.GetValue<string>()
            ?? throw new InvalidDataException($"'{path}' has no \"model_type\" field; add \"model_type\": \"gpt2\" or \"llama\".");
        return modelType switch
        {
            "gpt2" => Gpt2Config.FromJson(json),
            "llama" => LlamaConfig.FromJson(json),
            _ => throw new NotSupportedException($"'{path}': model_type \"{modelType}\" is not supported; supported model types are \"gpt2\" and \"llama\"."),
        };
    }

    /// <summary>A randomly initialised model of the configured family (weights as nn.Embedding/nn.Linear initialise them).</summary>
    public static CausalLanguageModel Create(ModelConfig config) => config switch
    {
        Gpt2Config gpt2 => new Gpt2Model(gpt2),
        LlamaConfig llama => new LlamaModel(llama),
        _ => throw new NotSupportedException($"No model implements config type {config.GetType().Name}."),
    };

    /// <summary>Writes <c>config.json</c> and <c>model.safetensors</c> as <c>save_pretrained</c> would:
    /// HF names, float32, metadata {"format":"pt"}, and no tied <c>lm_head.weight</c>. LoRA branches
    /// are not part of a base checkpoint; merge them first (<see cref="Projection.Merge"/>) to export merged weights.</summary>
    /// <param name="dtype">Storage type of the weights: float32 (default, bit-exact), or float16/bfloat16 to halve the
    /// file (loading converts back to float32).</param>
    public static void Save(CausalLanguageModel model, string directory, ScalarType dtype = ScalarType.Float32)
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16))
            throw new ArgumentException($"dtype {dtype} is not a checkpoint storage type; use Float32, Float16 or BFloat16.", nameof(dtype));
        var unmerged = model.Projections().Where(p => p.Layer.HasLora && !p.Layer.IsMerged).Select(p => p.Path).ToList();
        if (unmerged.Count > 0)
            throw new InvalidOperationException(
                $"The model has unmerged LoRA branches ({string.Join(", ", unmerged.Take(3))}{(unmerged.Count > 3 ? ", …" : "")}); merge them (Projection.Merge) before saving a base checkpoint, or save the adapters separately.");
        Directory.CreateDirectory(directory);
        var config = model.Config switch
        {
            Gpt2Config gpt2 => gpt2.ToJson(),
            LlamaConfig llama => llama.ToJson(),
            var other => throw new NotSupportedException($"Cannot save config type {other.GetType().Name}."),
        };
        var tensors = model.state_dict()
            .Where(p => !IsLoraTensor(p.Key))
            .ToDictionary(p => p.Key, p => dtype == p.Value.dtype ? p.Value : p.Value.to(dtype), StringComparer.Ordinal);
        SafeTensors.Save(Path.Combine(directory, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        File.WriteAllText(Path.Combine(directory, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    static bool IsLoraTensor(string name) => name.Contains(".lora_A.") || name.Contains(".lora_B.");

    /// <summary>Copies every checkpoint tensor into its parameter, one tensor at a time (read straight into
    /// native memory, converted to float32 if needed, copied, freed), so a checkpoint never sits in memory
    /// beside the model. Fails naming the tensor on a missing, unexpected or mis-shaped tensor.</summary>
    public static void LoadWeights(CausalLanguageModel model, string directory)
    {
        var parameters = model.state_dict().Where(p => !IsLoraTensor(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var loaded = new HashSet<string>(StringComparer.Ordinal);
        Func<string, string?> parameterNameFor = model switch
        {
            Gpt2Model => Gpt2Model.ParameterNameFor,
            LlamaModel llama => llama.ParameterNameFor,
            _ => name => name,
        };
        foreach (var file in WeightFiles(directory))
        {
            using var stream = File.OpenRead(file);
            var header = SafeTensors.ReadHeader(file);
            foreach (var entry in header.Entries)
            {
                if (parameterNameFor(entry.Name) is not { } name) continue;
                if (!parameters.TryGetValue(name, out var parameter))
                    throw new InvalidDataException(
                        $"Checkpoint '{file}' has tensor '{entry.Name}' {Shape(entry.Shape)}, which a {model.Config.ModelType} model with this config.json does not have; the config and the weights do not belong together.");
                if (!parameter.shape.SequenceEqual(entry.Shape))
                    throw new InvalidDataException(
                        $"Checkpoint '{file}': tensor '{entry.Name}' has shape {Shape(entry.Shape)} but the model built from config.json expects {Shape(parameter.shape)}; the config and the weights do not belong together.");
                if (!loaded.Add(name))
                    throw new InvalidDataException($"Checkpoint '{directory}' holds tensor '{entry.Name}' more than once.");
                using var scope = NewDisposeScope();
                var tensor = ReadTensor(stream, header, entry);
                using (no_grad()) parameter.copy_(tensor);   // copy_ converts fp16/bf16 to the parameter's float32
            }
        }
        var missing = parameters.Keys.Where(k => !loaded.Contains(k)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException(
                $"Checkpoint '{directory}' has no tensor '{missing[0]}' (expected shape {Shape(parameters[missing[0]].shape)})" +
                (missing.Count > 1 ? $" and {missing.Count - 1} more missing ({string.Join(", ", missing.Skip(1).Take(5))}{(missing.Count > 6 ? ", …" : "")})" : "") +
                "; the weights are incomplete or belong to a different architecture.");
    }

    static IEnumerable<string> WeightFiles(string directory)
    {
        var single = Path.Combine(directory, WeightsFile);
        var index = Path.Combine(directory, ShardIndexFile);
        if (File.Exists(single)) return [single];
        if (!File.Exists(index))
            throw new FileNotFoundException($"Neither {WeightsFile} nor {ShardIndexFile} is in '{directory}'. Only safetensors checkpoints are supported; convert pytorch_model.bin with save_pretrained(safe_serialization=True).", single);
        JsonObject weightMap;
        try { weightMap = JsonNode.Parse(File.ReadAllText(index))!["weight_map"]!.AsObject(); }
        catch (Exception ex) when (ex is JsonException or NullReferenceException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{index}' is not a shard index: it needs a \"weight_map\" object mapping tensor names to shard files.", ex);
        }
        var shards = weightMap.Select(p => p.Value!.GetValue<string>()).Distinct().Order(StringComparer.Ordinal)
            .Select(f => Path.Combine(directory, f)).ToList();
        foreach (var shard in shards.Where(s => !File.Exists(s)))
            throw new FileNotFoundException($"'{index}' lists shard '{Path.GetFileName(shard)}', which is not in '{directory}'.", shard);
        return shards;
    }

    /// <summary>Reads one tensor's bytes from the file straight into a fresh CPU tensor's native memory
    /// (<c>Tensor.bytes</c> is a span over it), so no managed copy of the checkpoint is made.</summary>
    static Tensor ReadTensor(FileStream stream, SafeTensors.Header header, SafeTensors.Entry entry)
    {
        var tensor = empty(entry.Shape, entry.DType);
        stream.Seek(header.DataStart + entry.Begin, SeekOrigin.Begin);
        stream.ReadExactly(tensor.bytes);
        return tensor;
    }

    static string Shape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}

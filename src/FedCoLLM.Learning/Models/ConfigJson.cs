using System.Text.Json.Nodes;

namespace FedCoLLM.Learning.Models;

/// <summary>Reads fields of a Hugging Face <c>config.json</c> with errors that name the field and the fix.</summary>
internal sealed class ConfigJson(JsonObject json, string source)
{
    public string Source => source;

    public T Required<T>(string field)
    {
        if (json[field] is not { } node)
            throw new InvalidDataException(
                $"{source} has no \"{field}\" field, which a {ModelType} model needs; add it (see the model's Hugging Face config.json) or re-export the checkpoint with save_pretrained.");
        return Read<T>(field, node);
    }

    public T Optional<T>(string field, T fallback) =>
        json[field] is { } node ? Read<T>(field, node) : fallback;

    public bool IsPresent(string field) => json[field] is not null;

    public string ModelType => json["model_type"]?.GetValue<string>() ?? "(unknown)";

    T Read<T>(string field, JsonNode node)
    {
        try
        {
            // JSON numbers such as 1e-05 or 10000.0 must still read as double / int where they fit.
            if (typeof(T) == typeof(int) || typeof(T) == typeof(int?)) return (T)(object)checked((int)node.GetValue<double>());
            if (typeof(T) == typeof(long)) return (T)(object)checked((long)node.GetValue<double>());
            return node.GetValue<T>();
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"{source}: \"{field}\" is {node.ToJsonString()}, which is not a {typeof(T).Name}.", ex);
        }
    }
}

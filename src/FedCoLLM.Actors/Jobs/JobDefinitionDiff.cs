using System.Text.Json;

namespace FedCoLLM.Actors.Jobs;

/// <summary>Names the first key in which two canonical job definitions differ, as a dotted job-file path with both
/// values ("distillation.temperature (1 vs 2)"). Canonical JSON has a fixed key order, so "first" is stable.</summary>
public static class JobDefinitionDiff
{
    public static string? First(string a, string b)
    {
        if (a == b) return null;
        if (a.Length == 0 || b.Length == 0) return "the job definition (one side has none)";
        using var left = JsonDocument.Parse(a);
        using var right = JsonDocument.Parse(b);
        return Walk(left.RootElement, right.RootElement, "") ?? "the job definition (same keys, different text)";
    }

    static string? Walk(JsonElement a, JsonElement b, string path)
    {
        if (a.ValueKind != b.ValueKind) return $"{Name(path)} ({Short(a)} vs {Short(b)})";
        switch (a.ValueKind)
        {
            case JsonValueKind.Object:
                var left = a.EnumerateObject().ToList();
                var right = b.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
                foreach (var p in left)
                {
                    var child = path.Length == 0 ? p.Name : $"{path}.{p.Name}";
                    if (!right.Remove(p.Name, out var other)) return $"{child} (set vs absent)";
                    if (Walk(p.Value, other, child) is { } d) return d;
                }
                return right.Count > 0 ? $"{(path.Length == 0 ? "" : path + ".")}{right.Keys.First()} (absent vs set)" : null;
            case JsonValueKind.Array:
                var xs = a.EnumerateArray().ToList();
                var ys = b.EnumerateArray().ToList();
                for (int i = 0; i < Math.Min(xs.Count, ys.Count); i++)
                    if (Walk(xs[i], ys[i], $"{path}[{i}]") is { } d) return d;
                return xs.Count == ys.Count ? null : $"{Name(path)} ({xs.Count} vs {ys.Count} items)";
            default:
                return a.GetRawText() == b.GetRawText() ? null : $"{Name(path)} ({Short(a)} vs {Short(b)})";
        }
    }

    static string Name(string path) => path.Length == 0 ? "the job definition" : path;

    static string Short(JsonElement e)
    {
        var text = e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();
        return text.Length > 40 ? text[..12] + "…" : text;
    }
}

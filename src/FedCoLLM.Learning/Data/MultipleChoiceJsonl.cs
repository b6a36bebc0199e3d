using System.Text.Json;

namespace FedCoLLM.Learning.Data;

/// <summary>A malformed line in a multiple-choice JSONL file; the message names file, line and field.</summary>
public sealed class MultipleChoiceFormatException(string file, int line, string field, string problem)
    : FormatException($"{file}:{line}: field '{field}': {problem}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public string Field { get; } = field;
}

/// <summary>
/// Reads multiple-choice questions, one JSON object per line, in the schemas these datasets ship in:
/// <list type="bullet">
/// <item>AI2 original (ARC, OpenBookQA, CommonsenseQA): <c>{"id", "question": {"stem", "choices": [{"label","text"}…]}, "answerKey"}</c></item>
/// <item>Hugging Face flattened: <c>{"id", "question": "…", "choices": {"text": […], "label": […]}, "answerKey"}</c></item>
/// <item>OpenBookQA on Hugging Face: <c>"question_stem"</c> at top level instead of <c>"question"</c>.</item>
/// </list>
/// Choices may be an array of {label, text} or columns {text: [], label: []} in any of them. Blank lines are skipped.
/// </summary>
public static class MultipleChoiceJsonl
{
    public static IReadOnlyList<MultipleChoiceItem> Load(string path)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, path);
    }

    public static IReadOnlyList<MultipleChoiceItem> Parse(TextReader reader, string sourceName)
    {
        var items = new List<MultipleChoiceItem>();
        int lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new MultipleChoiceFormatException(sourceName, lineNumber, "(line)", $"not valid JSON: {e.Message}"); }
            using (doc) items.Add(ParseItem(doc.RootElement, new Where(sourceName, lineNumber)));
        }
        return items;
    }

    private readonly record struct Where(string File, int Line)
    {
        public MultipleChoiceFormatException Error(string field, string problem) => new(File, Line, field, problem);
    }

    private static MultipleChoiceItem ParseItem(JsonElement root, Where at)
    {
        if (root.ValueKind != JsonValueKind.Object) throw at.Error("(line)", "expected a JSON object");

        string id = RequiredString(root, "id", at);
        string stem;
        JsonElement choicesElement;
        if (root.TryGetProperty("question", out var q) && q.ValueKind == JsonValueKind.Object)
        {
            stem = RequiredString(q, "stem", at, "question.stem");
            if (!q.TryGetProperty("choices", out choicesElement) && !root.TryGetProperty("choices", out choicesElement))
                throw at.Error("question.choices", "missing");
        }
        else
        {
            if (q.ValueKind == JsonValueKind.String) stem = q.GetString()!;
            else if (root.TryGetProperty("question_stem", out var qs) && qs.ValueKind == JsonValueKind.String) stem = qs.GetString()!;
            else throw at.Error("question", "unknown schema: expected \"question\" as an object {stem, choices} or a string, or a top-level \"question_stem\" string");
            if (!root.TryGetProperty("choices", out choicesElement)) throw at.Error("choices", "missing");
        }

        var choices = ParseChoices(choicesElement, at);
        string key = RequiredString(root, "answerKey", at).Trim();
        int answer = -1;
        for (int i = 0; i < choices.Count; i++)
            if (choices[i].Label == key) { answer = i; break; }
        if (answer < 0)
            throw at.Error("answerKey", $"\"{key}\" is not one of the choice labels [{string.Join(", ", choices.Select(c => c.Label))}]");
        return new MultipleChoiceItem(id, stem, choices, answer);
    }

    private static List<Choice> ParseChoices(JsonElement e, Where at)
    {
        var choices = new List<Choice>();
        if (e.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var c in e.EnumerateArray())
            {
                if (c.ValueKind != JsonValueKind.Object) throw at.Error($"choices[{i}]", "expected an object {label, text}");
                choices.Add(new Choice(RequiredString(c, "label", at, $"choices[{i}].label"), RequiredString(c, "text", at, $"choices[{i}].text")));
                i++;
            }
        }
        else if (e.ValueKind == JsonValueKind.Object)
        {
            if (!e.TryGetProperty("text", out var texts) || texts.ValueKind != JsonValueKind.Array) throw at.Error("choices.text", "missing or not an array");
            if (!e.TryGetProperty("label", out var labels) || labels.ValueKind != JsonValueKind.Array) throw at.Error("choices.label", "missing or not an array");
            if (texts.GetArrayLength() != labels.GetArrayLength())
                throw at.Error("choices", $"{texts.GetArrayLength()} texts but {labels.GetArrayLength()} labels");
            for (int i = 0; i < texts.GetArrayLength(); i++)
            {
                var t = texts[i]; var l = labels[i];
                if (t.ValueKind != JsonValueKind.String) throw at.Error($"choices.text[{i}]", "expected a string");
                if (l.ValueKind != JsonValueKind.String) throw at.Error($"choices.label[{i}]", "expected a string");
                choices.Add(new Choice(l.GetString()!, t.GetString()!));
            }
        }
        else throw at.Error("choices", "expected an array of {label, text} or an object {text: [...], label: [...]}");

        if (choices.Count < 2) throw at.Error("choices", $"has {choices.Count} option(s); a multiple-choice item needs at least 2");
        var duplicate = choices.GroupBy(c => c.Label).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw at.Error("choices", $"label \"{duplicate.Key}\" appears more than once");
        return choices;
    }

    private static string RequiredString(JsonElement obj, string name, Where at, string? path = null)
    {
        if (!obj.TryGetProperty(name, out var v)) throw at.Error(path ?? name, "missing");
        if (v.ValueKind != JsonValueKind.String) throw at.Error(path ?? name, $"expected a string, got {v.ValueKind}");
        return v.GetString()!;
    }
}

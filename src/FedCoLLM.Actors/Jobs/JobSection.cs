using System.Globalization;
using Akka.Configuration.Hocon;

namespace FedCoLLM.Actors.Jobs;

/// <summary>
/// One block of a job file (e.g. <c>job.distillation</c>) with the keys it may hold. Keys outside that list are refused
/// when the block is opened, before anything else is read, so a misspelt key is reported as itself ("did you mean …?")
/// rather than as the missing key it was meant to be. An absent block reads as all defaults.
/// </summary>
internal sealed class JobSection
{
    readonly IReadOnlyDictionary<string, HoconValue> items;
    readonly string[] keys;
    readonly string source;

    public string Path { get; }

    JobSection(string source, string path, IReadOnlyDictionary<string, HoconValue> items, string[] keys)
    {
        (this.source, Path, this.items, this.keys) = (source, path, items, keys);
        foreach (var key in items.Keys)
            if (!keys.Contains(key, StringComparer.Ordinal))
                throw Error(key, NearestKey.Find(key, keys) is { } near
                    ? $"unknown key; did you mean {KeyOf(near)}?"
                    : $"unknown key; {(Path.Length == 0 ? "the file" : Path)} takes {string.Join(", ", keys)}");
    }

    public static JobSection Root(string source, HoconValue root, params string[] keys) =>
        new(source, "", root.IsObject() ? root.GetObject().Items : new Dictionary<string, HoconValue>(), keys);

    public string KeyOf(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    /// <summary>"file: key: problem", or "file: key = value …" / "file: key is …" when the problem starts so.</summary>
    public JobFileException Error(string key, string problem, Exception? inner = null) =>
        new(KeyOf(key), $"{source}: {KeyOf(key)}{(problem.StartsWith("= ", StringComparison.Ordinal) || problem.StartsWith("is ", StringComparison.Ordinal) ? " " : ": ")}{problem}", inner);

    /// <summary>Whether the key is written with a value other than null.</summary>
    public bool Has(string key) => Value(key) is not null;

    public JobSection Section(string key, params string[] sectionKeys)
    {
        var value = Value(key);
        if (value is not null && !value.IsObject())
            throw Error(key, "must be a block { … }");
        return new(source, KeyOf(key), value?.GetObject().Items ?? new Dictionary<string, HoconValue>(), sectionKeys);
    }

    /// <summary>The elements of an array of blocks, each opened with <paramref name="elementKeys"/>.</summary>
    public IReadOnlyList<JobSection> Sections(string key, params string[] elementKeys)
    {
        var array = Array(key);
        return array.Select((element, i) => element.IsObject()
                ? new JobSection(source, $"{KeyOf(key)}[{i}]", element.GetObject().Items, elementKeys)
                : throw Error($"{key}[{i}]", "must be a block { … }"))
            .ToArray();
    }

    public string RequiredString(string key, string example) =>
        OptionalString(key) ?? throw Error(key, $"missing; set it, e.g. {key} = {example}");

    public string String(string key, string fallback) => OptionalString(key) ?? fallback;

    public string? OptionalString(string key)
    {
        var value = Value(key);
        if (value is null) return null;
        if (!value.Values.All(v => v is HoconLiteral)) throw Error(key, "must be a single value, not a block or a list");
        return Text(value);
    }

    public IReadOnlyList<string> Strings(string key, IReadOnlyList<string>? fallback, string example)
    {
        var value = Value(key);
        if (value is null)
            return fallback ?? throw Error(key, $"missing; set it, e.g. {key} = {example}");
        return Array(key).Select((element, i) => element.Values.All(v => v is HoconLiteral)
                ? Text(element)
                : throw Error($"{key}[{i}]", "must be a single value"))
            .ToArray();
    }

    public int Int(string key, int fallback) => NullableInt(key, fallback) ?? throw Error(key, "must be a whole number, not null");

    public int? NullableInt(string key, int? fallback)
    {
        var text = OptionalString(key);
        if (text is null) return items.ContainsKey(key) ? null : fallback; // written as null: no cap
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
            ? n : throw Error(key, $"= \"{text}\" is not a whole number");
    }

    public long Long(string key, long fallback)
    {
        var text = OptionalString(key);
        if (text is null) return fallback;
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
            ? n : throw Error(key, $"= \"{text}\" is not a whole number");
    }

    public double Double(string key, double fallback)
    {
        var text = OptionalString(key);
        if (text is null) return fallback;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x)
            ? x : throw Error(key, $"= \"{text}\" is not a number; write e.g. 0.05 or 2e-3");
    }

    public bool Bool(string key, bool fallback) => OptionalString(key) switch
    {
        null => fallback,
        "true" or "yes" or "on" => true,
        "false" or "no" or "off" => false,
        var text => throw Error(key, $"= \"{text}\" is not a boolean; write true or false"),
    };

    public TimeSpan Duration(string key, TimeSpan fallback)
    {
        var text = OptionalString(key);
        if (text is null) return fallback;
        return JobDuration.TryParse(text)
               ?? throw Error(key, $"= \"{text}\" is not a duration; write a positive whole number and a unit (ms, s, m, h, d), e.g. 30m");
    }

    /// <summary>One of <paramref name="allowed"/>, spelt as in the file.</summary>
    public string Choice(string key, string fallback, params string[] allowed)
    {
        var text = String(key, fallback);
        if (allowed.Contains(text, StringComparer.Ordinal)) return text;
        var near = NearestKey.Find(text, allowed);
        throw Error(key, $"= \"{text}\" is not one of {string.Join(", ", allowed)}{(near is null ? "" : $"; did you mean {near}?")}");
    }

    HoconValue? Value(string key)
    {
        if (!keys.Contains(key, StringComparer.Ordinal))
            throw new InvalidOperationException($"{KeyOf(key)} is read but not declared as a key of {Path}.");
        // Akka's parser reads both null and "null" as the literal text null; a job file means null by either.
        return items.TryGetValue(key, out var value) && !(value.Values.All(v => v is HoconLiteral) && Text(value) == "null")
            ? value : null;
    }

    IList<HoconValue> Array(string key)
    {
        var value = Value(key)!;
        if (value.IsArray()) return value.GetArray();
        // Akka's IsArray() is false for an empty list [], which is still a list.
        if (value.Values.Any(v => v is HoconArray) && value.Values.All(v => v is HoconArray || v is HoconLiteral { Value: var t } && string.IsNullOrWhiteSpace(t)))
            return value.Values.OfType<HoconArray>().SelectMany(a => a).ToList();
        throw Error(key, "must be a list [ … ]");
    }

    /// <summary>The string a value spells. Akka's parser appends the whitespace before a closing brace or comma as one
    /// more literal and its GetString() trims the whole result, which would eat the leading space of " {answer}";
    /// dropping only those trailing whitespace literals keeps quoted whitespace.</summary>
    static string Text(HoconValue value)
    {
        var parts = value.Values.Cast<HoconLiteral>().Select(l => l.Value ?? "").ToList();
        while (parts.Count > 1 && string.IsNullOrWhiteSpace(parts[^1])) parts.RemoveAt(parts.Count - 1);
        return string.Concat(parts);
    }
}

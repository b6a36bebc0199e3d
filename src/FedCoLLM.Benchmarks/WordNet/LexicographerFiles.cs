namespace FedCoLLM.Benchmarks.WordNet;

/// <summary>
/// The lex_filenum → lexicographer file name table of lexnames(5WN). The number is stored in every
/// data-file line; the name ("noun.animal") is the topical domain a synset was filed under.
/// </summary>
public static class LexicographerFiles
{
    private static readonly string[] Names =
    [
        "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
        "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event",
        "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
        "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
        "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
        "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition",
        "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
        "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl",
    ];

    /// <summary>Number of lexicographer files (00–44).</summary>
    public static int Count => Names.Length;

    /// <summary>The lexicographer file name for a file number, e.g. 5 → "noun.animal".</summary>
    public static string NameOf(int number) =>
        number >= 0 && number < Names.Length
            ? Names[number]
            : throw new ArgumentOutOfRangeException(nameof(number), number, $"lex_filenum must be 00–{Names.Length - 1:D2}");

    /// <summary>The file number for a name, e.g. "noun.plant" → 20.</summary>
    public static int NumberOf(string name)
    {
        var index = Array.IndexOf(Names, name);
        return index >= 0 ? index : throw new ArgumentException($"unknown lexicographer file '{name}' (see lexnames(5WN))", nameof(name));
    }
}

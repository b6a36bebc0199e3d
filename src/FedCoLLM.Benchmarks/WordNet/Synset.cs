namespace FedCoLLM.Benchmarks.WordNet;

/// <summary>One line of a WordNet data file (wndb(5WN)): a set of synonymous words and its gloss.</summary>
/// <param name="Offset">synset_offset: the byte offset of the line in its data file, the synset's id within a part of speech.</param>
/// <param name="LexicographerFile">lex_filenum, the topical domain (see <see cref="LexicographerFiles"/>).</param>
/// <param name="SynsetType">ss_type: n, v, a, s (adjective satellite) or r.</param>
/// <param name="Words">The words as stored: underscores for spaces, adjective markers such as "(p)" removed.</param>
/// <param name="Pointers">Relations to other synsets (hypernym "@", instance hypernym "@i", …).</param>
/// <param name="Gloss">Everything after the '|': definition, then optional "; \"example\"" sentences.</param>
public sealed record Synset(
    int Offset,
    int LexicographerFile,
    char SynsetType,
    IReadOnlyList<string> Words,
    IReadOnlyList<SynsetPointer> Pointers,
    string Gloss)
{
    /// <summary>Lexicographer file name, e.g. "noun.animal".</summary>
    public string Domain => LexicographerFiles.NameOf(LexicographerFile);

    /// <summary>The words as readers write them: underscores become spaces ("domestic_dog" → "domestic dog").</summary>
    public IEnumerable<string> Lemmas => Words.Select(ToLemma);

    /// <summary>The first word, usually the most familiar name of the concept.</summary>
    public string HeadLemma => ToLemma(Words[0]);

    /// <summary>The gloss's definition: the text before the first quoted example (<c>; "…"</c>).</summary>
    public string Definition => SplitGloss(Gloss).Definition;

    /// <summary>The gloss's quoted usage examples, quotes removed.</summary>
    public IReadOnlyList<string> Examples => SplitGloss(Gloss).Examples;

    /// <summary>Offsets of the synsets this one is a kind ("@") or an instance ("@i") of.</summary>
    public IEnumerable<SynsetPointer> Hypernyms =>
        Pointers.Where(p => p.Symbol is SynsetPointer.Hypernym or SynsetPointer.InstanceHypernym);

    public static string ToLemma(string word) => word.Replace('_', ' ');

    private static (string Definition, IReadOnlyList<string> Examples) SplitGloss(string gloss)
    {
        // Examples follow the definition as `; "…"`; a gloss may also open with an example directly.
        var start = gloss.StartsWith('"') ? 0 : gloss.IndexOf("; \"", StringComparison.Ordinal);
        if (start < 0)
        {
            return (gloss.Trim().TrimEnd(';').TrimEnd(), []);
        }

        var definition = gloss[..start].Trim().TrimEnd(';').TrimEnd();
        var examples = new List<string>();
        var rest = gloss.AsSpan(start);
        while (true)
        {
            var open = rest.IndexOf('"');
            if (open < 0)
            {
                break;
            }

            var close = rest[(open + 1)..].IndexOf('"');
            if (close < 0)
            {
                break;
            }

            var example = rest.Slice(open + 1, close).Trim();
            if (!example.IsEmpty)
            {
                examples.Add(example.ToString());
            }

            rest = rest[(open + close + 2)..];
        }

        return (definition, examples);
    }
}

/// <summary>A pointer of a data-file line: pointer_symbol synset_offset pos source/target.</summary>
public sealed record SynsetPointer(string Symbol, int TargetOffset, char PartOfSpeech, int Source, int Target)
{
    public const string Hypernym = "@";
    public const string InstanceHypernym = "@i";
}

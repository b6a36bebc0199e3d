using System.Text;
using FedCoLLM.Benchmarks.WordNet;

namespace FedCoLLM.Learning.Tests.Benchmarks;

/// <summary>Small hand-written WordNet lines, and the installed database for tests that need the real thing.</summary>
internal static class WordNetFixtures
{
    public const string FileName = "data.test";

    /// <summary>Two licence lines, then one data line per body with its true byte offset prepended.</summary>
    public static byte[] DataFile(params string[] bodies)
    {
        var text = new StringBuilder("  1 This software and database is provided under licence  \n  2   \n");
        foreach (var body in bodies)
        {
            text.Append($"{Encoding.UTF8.GetByteCount(text.ToString()):D8} {body}  \n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static Synset Noun(int offset, string domain, string gloss, params string[] words) =>
        new(offset, LexicographerFiles.NumberOf(domain), 'n', words, [], gloss);

    public static string CommittedData => Path.Combine(Fixtures.RepositoryRoot(), "data", "wordnet");
}

/// <summary>
/// The installed WordNet 3.0 noun database, parsed once per test run. Missing data is a failure, not a skip:
/// the committed benchmark can only be verified against it.
/// </summary>
public sealed class InstalledWordNet
{
    public InstalledWordNet()
    {
        var dataFile = Path.Combine(WordNetBenchmarkOptions.DebianSourceDirectory, WordNetBenchmark.NounDataFile);
        Assert.True(File.Exists(dataFile),
            $"WordNet 3.0 is not installed ({dataFile} is missing): run `apt-get install wordnet-base` (as .ci/run does).");
        Nouns = WordNetDataFile.Read(dataFile);
        Askable = Nouns.Where(new GlossQuestionGenerator(Nouns).IsAskable).ToArray();
    }

    public IReadOnlyList<Synset> Nouns { get; }

    public IReadOnlyList<Synset> Askable { get; }
}

[CollectionDefinition(Name)]
public sealed class InstalledWordNetCollection : ICollectionFixture<InstalledWordNet>
{
    public const string Name = "Installed WordNet";
}

using FedCoLLM.Benchmarks.Tokenization;

namespace FedCoLLM.Benchmarks.WordNet;

/// <summary>Everything the generated benchmark depends on; the same options give byte-identical files.</summary>
public sealed record WordNetBenchmarkOptions
{
    /// <summary>Where Debian's wordnet-base installs the WordNet 3.0 database.</summary>
    public const string DebianSourceDirectory = "/usr/share/wordnet";

    /// <summary>Debian's copyright file, whose "License: WordNet3.0" section is copied next to the data.</summary>
    public const string DebianCopyrightFile = "/usr/share/doc/wordnet-base/copyright";

    public const int DefaultSeed = 42;

    public string SourceDirectory { get; init; } = DebianSourceDirectory;

    public string CopyrightFile { get; init; } = DebianCopyrightFile;

    /// <summary>One client per domain. Sizes differ on purpose (animal/plant are large, food/body small).</summary>
    public IReadOnlyList<string> ClientDomains { get; init; } = ["noun.animal", "noun.plant", "noun.food", "noun.body"];

    public SplitSizes Sizes { get; init; } = SplitSizes.Default;

    public int Seed { get; init; } = DefaultSeed;

    public int VocabularySize { get; init; } = BytePairEncodingTrainer.DefaultVocabularySize;
}

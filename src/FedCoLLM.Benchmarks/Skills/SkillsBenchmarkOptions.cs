namespace FedCoLLM.Benchmarks.Skills;

/// <summary>How many items each file of the skills benchmark gets. Defaults give the committed data/skills.</summary>
public sealed record SkillsSizes(int TrainPerClient = 2000, int ValidationPerClient = 200, int TestPerClient = 400, int PublicPerFamily = 500, int CorpusPerFamily = 20_000);

public sealed record SkillsBenchmarkOptions
{
    public const int DefaultSeed = 42;
    public const int DefaultVocabularySize = 1024;

    public int Seed { get; init; } = DefaultSeed;

    public int VocabularySize { get; init; } = DefaultVocabularySize;

    public SkillsSizes Sizes { get; init; } = new();

    public IReadOnlyList<SkillFamily> Families { get; init; } = SkillFamily.BuiltIn;
}

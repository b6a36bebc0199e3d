namespace FedCoLLM.Benchmarks.Skills;

/// <summary>
/// A family of questions that exercise one skill. Every instance is drawn fresh from a random stream, so the
/// instances a model is tested on are new: it can only answer them by having learned the skill, not by recalling
/// a fact it read (the WordNet benchmark's limit: distillation on a public set cannot carry facts about synsets the
/// public set never mentions, but it can carry a skill the public set exercises).
/// </summary>
public abstract class SkillFamily
{
    /// <summary>Directory and id name of the family: lower-case ASCII, no spaces.</summary>
    public abstract string Name { get; }

    /// <summary>One sentence for the data README.</summary>
    public abstract string Description { get; }

    /// <summary>A random instance. Must consume the stream deterministically and return exactly three distractors,
    /// distinct from each other and from the answer.</summary>
    public abstract SkillItem Draw(Random random);

    /// <summary>The built-in families, one client each, in client order.</summary>
    public static IReadOnlyList<SkillFamily> BuiltIn { get; } =
        [new ArithmeticFamily(), new ComparisonFamily(), new LetterFamily(), new WordProblemFamily()];
}

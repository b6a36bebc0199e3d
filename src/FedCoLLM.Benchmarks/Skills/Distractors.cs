namespace FedCoLLM.Benchmarks.Skills;

/// <summary>Picks three wrong answers from a family's plausible candidates.</summary>
public static class Distractors
{
    public const int Count = 3;

    /// <summary>Three distinct candidates other than <paramref name="answer"/>, in a random order; the candidates
    /// are tried in a random order and <paramref name="fallback"/> draws more while fewer than three are distinct.</summary>
    public static IReadOnlyList<string> Pick(Random random, string answer, IEnumerable<string> candidates, Func<Random, string> fallback)
    {
        var pool = candidates.Where(c => c != answer).Distinct(StringComparer.Ordinal).ToArray();
        random.Shuffle(pool);
        var chosen = pool.Take(Count).ToList();
        for (var draws = 0; chosen.Count < Count; draws++)
        {
            if (draws == 1000)
                throw new InvalidOperationException($"could not find {Count} distinct distractors for \"{answer}\"");
            var extra = fallback(random);
            if (extra != answer && !chosen.Contains(extra, StringComparer.Ordinal))
                chosen.Add(extra);
        }

        return chosen;
    }
}

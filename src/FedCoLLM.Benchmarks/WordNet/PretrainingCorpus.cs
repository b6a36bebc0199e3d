namespace FedCoLLM.Benchmarks.WordNet;

/// <summary>
/// Plain encyclopedic sentences from every synset — definition (both ways round), other names, what it is a kind of:
/// "A dog is a member of the genus Canis … . The name for a member of the genus Canis … is dog. A dog is a kind of canine." This is the world knowledge a
/// language model memorises in pre-training (a larger model memorises more of it); it is deliberately
/// prose, never question/answer pairs.
/// </summary>
public static class PretrainingCorpus
{
    /// <summary>Sentences for all <paramref name="synsets"/> in offset order; deterministic.</summary>
    public static IEnumerable<string> Sentences(IReadOnlyList<Synset> synsets)
    {
        var byOffset = synsets.ToDictionary(s => s.Offset);
        foreach (var synset in synsets.OrderBy(s => s.Offset))
        {
            var subject = WithArticle(synset.HeadLemma, sentenceStart: true);
            var definition = synset.Definition.TrimEnd('.', ' ');
            if (definition.Length > 0)
            {
                yield return $"{subject} is {definition}.";
                // The same fact read the other way round: a model trained only on "name is definition"
                // does not learn definition → name (the reversal curse, Berglund et al. 2023), and the
                // benchmark's questions ask exactly that direction.
                yield return $"The name for {definition} is {synset.HeadLemma}.";
            }

            var otherNames = synset.Lemmas.Skip(1).Distinct(StringComparer.Ordinal).ToArray();
            if (otherNames.Length > 0)
            {
                yield return $"{subject} is also called {JoinWithAnd(otherNames)}.";
            }

            foreach (var pointer in synset.Hypernyms)
            {
                // "A flicker is a momentary flash of light." already says it is a kind of flash.
                if (byOffset.TryGetValue(pointer.TargetOffset, out var parent) && !WholePhrase.Occurs(definition, parent.HeadLemma))
                {
                    yield return pointer.Symbol == SynsetPointer.InstanceHypernym
                        ? $"{subject} is {WithArticle(parent.HeadLemma, sentenceStart: false)}."
                        : $"{subject} is a kind of {parent.HeadLemma}.";
                }
            }
        }
    }

    /// <summary>"dog" → "A dog", "elephant" → "an elephant"; capitalised names (Paris, Canis) take no article.</summary>
    internal static string WithArticle(string lemma, bool sentenceStart)
    {
        if (lemma.Length == 0 || !char.IsLower(lemma[0]))
        {
            return lemma;
        }

        var article = "aeiou".Contains(lemma[0], StringComparison.Ordinal) ? "an" : "a";
        return $"{(sentenceStart ? char.ToUpperInvariant(article[0]) + article[1..] : article)} {lemma}";
    }

    private static string JoinWithAnd(IReadOnlyList<string> names) =>
        names.Count == 1 ? names[0] : $"{string.Join(", ", names.Take(names.Count - 1))} and {names[^1]}";
}

using FedCoLLM.Benchmarks.MultipleChoice;

namespace FedCoLLM.Benchmarks.WordNet;

/// <summary>
/// Turns a synset into a "definition → word" question: the stem is the gloss's definition, the answer the
/// synset's head lemma, and three distractors are head lemmas of other synsets filed in the same
/// lexicographer domain — plausible neighbours (another animal, another food), never a synonym of the answer.
/// </summary>
public sealed class GlossQuestionGenerator
{
    public const int ChoiceCount = 4;
    private static readonly string[] Labels = MultipleChoiceQuestion.Labels;

    // A domain this small could not supply three distinct distractors by rejection sampling in reasonable time.
    private const int MaxDrawsPerQuestion = 10_000;

    private readonly Dictionary<int, Synset[]> _synsetsByDomain;
    private readonly HashSet<string> _sharedDefinitions;

    /// <param name="synsets">Every synset distractors may come from (all nouns, not only askable ones).</param>
    public GlossQuestionGenerator(IEnumerable<Synset> synsets)
    {
        var all = synsets.ToArray();
        _synsetsByDomain = all
            .GroupBy(s => s.LexicographerFile)
            .ToDictionary(g => g.Key, g => g.OrderBy(s => s.Offset).ToArray());
        _sharedDefinitions = all
            .GroupBy(s => s.Definition, StringComparer.OrdinalIgnoreCase)
            .Where(g => g.Count() > 1)
            .Select(g => g.Key)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Whether a synset makes a fair question: it has a definition; the definition does not contain one of the
    /// synset's own lemmas as a whole phrase (which would give the answer away); and no other synset has the same
    /// definition ("a genus of protoctist" defines dozens — another of them could be drawn as a distractor).
    /// </summary>
    public bool IsAskable(Synset synset)
    {
        var definition = synset.Definition;
        return definition.Length > 0
            && !_sharedDefinitions.Contains(definition)
            && !synset.Lemmas.Any(lemma => WholePhrase.Occurs(definition, lemma));
    }

    /// <summary>Question id for a synset, unique across all splits: "wn-noun.animal-02084071".</summary>
    public static string IdOf(Synset synset) => $"wn-{synset.Domain}-{synset.Offset:D8}";

    /// <summary>
    /// Builds the question for <paramref name="answer"/>. The random stream is derived from the seed and the
    /// synset alone, so a question does not change when other questions are added or reordered.
    /// </summary>
    public MultipleChoiceQuestion Generate(Synset answer, int seed)
    {
        var random = new Random(unchecked((seed * 1_000_003) ^ answer.Offset));
        var pool = _synsetsByDomain.TryGetValue(answer.LexicographerFile, out var inDomain)
            ? inDomain
            : throw new ArgumentException($"synset {answer.Offset:D8} is not among the generator's synsets", nameof(answer));

        var answerLemmas = answer.Lemmas.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var texts = new List<string>(ChoiceCount) { answer.HeadLemma };
        for (var draws = 0; texts.Count < ChoiceCount; draws++)
        {
            if (draws == MaxDrawsPerQuestion)
            {
                throw new InvalidOperationException(
                    $"domain {answer.Domain} has too few distinct lemmas for {ChoiceCount - 1} distractors of synset {answer.Offset:D8}");
            }

            var candidate = pool[random.Next(pool.Length)];
            var text = candidate.HeadLemma;
            if (candidate.Offset != answer.Offset
                && !answerLemmas.Contains(text)
                && !texts.Contains(text, StringComparer.OrdinalIgnoreCase))
            {
                texts.Add(text);
            }
        }

        // The answer goes to a uniformly random position; the distractors keep their draw order around it.
        var answerIndex = random.Next(ChoiceCount);
        texts.RemoveAt(0);
        texts.Insert(answerIndex, answer.HeadLemma);

        var choices = texts.Select((text, i) => new AnswerChoice(Labels[i], text)).ToArray();
        return new MultipleChoiceQuestion(IdOf(answer), answer.Definition, choices, Labels[answerIndex]);
    }
}

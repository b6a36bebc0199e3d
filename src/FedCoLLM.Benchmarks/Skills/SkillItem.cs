using System.Security.Cryptography;
using System.Text;
using FedCoLLM.Benchmarks.MultipleChoice;

namespace FedCoLLM.Benchmarks.Skills;

/// <summary>One instance of a skill: a question, its one right answer and three wrong ones that a model without
/// the skill finds plausible (near misses, the results of the wrong operation, permutations).</summary>
/// <param name="Family">The task family (<see cref="SkillFamily.Name"/>); one client owns each family.</param>
public sealed record SkillItem(string Family, string Question, string Answer, IReadOnlyList<string> Distractors)
{
    /// <summary>Stable across processes and machines (string.GetHashCode is salted per process): the first 8 bytes of
    /// SHA-256 over family and question. Names the item and seeds where its answer goes.</summary>
    public ulong Key { get; } = BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(Family + "\n" + Question)), 0);

    /// <summary>The item as a multiple-choice question: the answer at a position drawn from the seed and the item
    /// alone (so an item reads the same in whichever file it lands), the distractors around it in their order.</summary>
    public MultipleChoiceQuestion ToQuestion(int seed)
    {
        var random = new Random(unchecked((int)(Key ^ (Key >> 32)) ^ (seed * 1_000_003)));
        var answerIndex = random.Next(MultipleChoiceQuestion.Labels.Length);
        var texts = Distractors.ToList();
        texts.Insert(answerIndex, Answer);
        var choices = texts.Select((text, i) => new AnswerChoice(MultipleChoiceQuestion.Labels[i], text)).ToArray();
        return new MultipleChoiceQuestion($"sk-{Family}-{Key:x16}", Question, choices, MultipleChoiceQuestion.Labels[answerIndex]);
    }

    /// <summary>The item as a solved example for the pre-training corpus, in the benchmark prompt's own words.</summary>
    public string Solved => $"{Question}{SkillsBenchmark.AnswerCue} {Answer}";
}

using System.Globalization;

namespace FedCoLLM.Benchmarks.Skills;

/// <summary>Which of four close numbers is the largest (or the smallest): "Which number is the largest: 412, 398,
/// 421, 409?" → "421". The choices are the four numbers, so every choice appears in the question and only
/// comparing them tells the answer.</summary>
public sealed class ComparisonFamily : SkillFamily
{
    public override string Name => "comparison";

    public override string Description =>
        "the largest or the smallest of four distinct numbers of 3 digits within 60 of each other; the choices are the four numbers";

    public override SkillItem Draw(Random random)
    {
        var low = random.Next(100, 940);
        var numbers = new List<int>();
        while (numbers.Count < 4)
        {
            var n = low + random.Next(0, 60);
            if (!numbers.Contains(n)) numbers.Add(n);
        }

        var largest = random.Next(2) == 0;
        var answer = largest ? numbers.Max() : numbers.Min();
        var listed = string.Join(", ", numbers.Select(Text));
        var question = $"Which number is the {(largest ? "largest" : "smallest")}: {listed}?";
        var distractors = Distractors.Pick(random, Text(answer), numbers.Select(Text), _ => throw new InvalidOperationException("four distinct numbers always give three distractors"));
        return new SkillItem(Name, question, Text(answer), distractors);
    }

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);
}

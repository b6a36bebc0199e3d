using System.Globalization;

namespace FedCoLLM.Benchmarks.Skills;

/// <summary>
/// One-step word problems: a story around two small numbers that calls for adding, taking away, multiplying or
/// sharing. "Ana has 14 apples. She buys 9 more. How many apples does Ana have now?" → "23". The wrong answers
/// are what the other operations give on the same two numbers, and near misses, so reading the story is the skill.
/// </summary>
public sealed class WordProblemFamily : SkillFamily
{
    private static readonly (string Name, string Pronoun)[] People =
    [
        ("Ana", "She"), ("Ben", "He"), ("Carla", "She"), ("David", "He"), ("Emma", "She"), ("Farid", "He"),
        ("Grace", "She"), ("Hugo", "He"), ("Ines", "She"), ("Jonas", "He"), ("Kira", "She"), ("Leo", "He"),
    ];

    private static readonly string[] Things =
        ["apples", "books", "marbles", "pencils", "stamps", "cookies", "shells", "stickers", "coins", "cards"];

    public override string Name => "word-problems";

    public override string Description =>
        "one-step stories (buys more, gives away, bags of equal size, shares equally) around two small numbers; wrong answers are the other operations' results and near misses";

    public override SkillItem Draw(Random random)
    {
        var (name, pronoun) = People[random.Next(People.Length)];
        var friend = People[random.Next(People.Length)].Name;
        if (friend == name) friend = People[(Array.FindIndex(People, p => p.Name == name) + 1) % People.Length].Name;
        var things = Things[random.Next(Things.Length)];
        int a, b, answer;
        string question;
        switch (random.Next(4))
        {
            case 0:
                (a, b) = (random.Next(2, 60), random.Next(2, 40));
                answer = a + b;
                question = $"{name} has {a} {things}. {pronoun} buys {b} more. How many {things} does {name} have now?";
                break;
            case 1:
                (a, b) = (random.Next(10, 80), 0);
                b = random.Next(1, a);
                answer = a - b;
                question = $"{name} has {a} {things}. {pronoun} gives {b} to {friend}. How many {things} does {name} have left?";
                break;
            case 2:
                (a, b) = (random.Next(2, 13), random.Next(2, 13));
                answer = a * b;
                question = $"{name} buys {a} bags with {b} {things} in each bag. How many {things} does {name} buy?";
                break;
            default:
                (answer, b) = (random.Next(2, 13), random.Next(2, 13));
                a = answer * b;
                question = $"{name} shares {a} {things} equally among {b} friends. How many {things} does each friend get?";
                break;
        }

        int[] others = [a + b, Math.Abs(a - b), a * b, b != 0 && a % b == 0 ? a / b : -1, answer + 1, answer - 1, a, b];
        var candidates = others.Where(n => n >= 0).Select(Text);
        var distractors = Distractors.Pick(random, Text(answer), candidates, r => Text(answer + r.Next(2, 12)));
        return new SkillItem(Name, question, Text(answer), distractors);
    }

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);
}

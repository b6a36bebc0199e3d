using System.Globalization;

namespace FedCoLLM.Benchmarks.Skills;

/// <summary>Multi-digit addition and subtraction: "What is 347 + 85?" → "432". The wrong answers are the slips a
/// model that has not learned carrying makes: off by one in a digit (±1, ±10, ±100) or the carry (borrow) dropped.</summary>
public sealed class ArithmeticFamily : SkillFamily
{
    public override string Name => "arithmetic";

    public override string Description =>
        "addition and subtraction of two numbers of 2–3 digits (no negative results); wrong answers are ±1, ±10 or ±100 off, or the carry (borrow) dropped";

    public override SkillItem Draw(Random random)
    {
        var a = random.Next(10, 1000);
        var b = random.Next(10, 1000);
        var add = random.Next(2) == 0;
        if (!add && a < b) (a, b) = (b, a);
        var answer = add ? a + b : a - b;
        var question = string.Create(CultureInfo.InvariantCulture, $"What is {a} {(add ? '+' : '-')} {b}?");
        int[] near = [answer + 1, answer - 1, answer + 10, answer - 10, answer + 100, answer - 100, WithoutCarry(a, b, add)];
        var candidates = near.Where(n => n >= 0).Select(Text);
        var distractors = Distractors.Pick(random, Text(answer), candidates, r => Text(answer + r.Next(-20, 21)));
        return new SkillItem(Name, question, Text(answer), distractors);
    }

    /// <summary>Digit by digit with the carry (or borrow) forgotten: 47 + 85 → 22 (7+5 → 2, 4+8 → 12), 52 − 17 → 45.</summary>
    public static int WithoutCarry(int a, int b, bool add)
    {
        int result = 0, place = 1;
        while (a > 0 || b > 0)
        {
            int x = a % 10, y = b % 10;
            var digit = add ? (x + y) % 10 : Math.Abs(x - y);
            result += digit * place;
            place *= 10;
            a /= 10;
            b /= 10;
        }

        return result;
    }

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);
}

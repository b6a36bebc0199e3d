namespace FedCoLLM.Benchmarks.Skills;

/// <summary>
/// String manipulation on a spelled-out word of 4–5 distinct letters: reverse it, sort its letters, or move its first
/// letter to the end. "Reverse the letters: c a r t" → "t r a c". Letters are written apart so that every letter is
/// its own token (a byte-level BPE would otherwise hide them inside word pieces); the wrong answers are the other
/// operations' results, the word unchanged, and other orders of the same letters.
/// </summary>
public sealed class LetterFamily : SkillFamily
{
    private static readonly (string Instruction, Func<char[], char[]> Apply)[] Operations =
    [
        ("Reverse the letters", w => w.Reverse().ToArray()),
        ("Sort the letters in alphabetical order", w => w.Order().ToArray()),
        ("Move the first letter to the end", w => [.. w[1..], w[0]]),
    ];

    public override string Name => "letters";

    public override string Description =>
        "reverse, sort, or rotate (first letter to the end) a spelled-out string of 4–5 distinct random letters; wrong answers are the other operations' results, the string unchanged and other orders of its letters";

    public override SkillItem Draw(Random random)
    {
        var length = random.Next(4, 6);
        var alphabet = "abcdefghijklmnopqrstuvwxyz".ToCharArray();
        random.Shuffle(alphabet);
        var word = alphabet[..length];
        var op = random.Next(Operations.Length);
        var answer = Spelled(Operations[op].Apply(word));
        var question = $"{Operations[op].Instruction}: {Spelled(word)}.";
        var candidates = Operations.Select(o => Spelled(o.Apply(word))).Append(Spelled(word));
        var distractors = Distractors.Pick(random, answer, candidates, r =>
        {
            var shuffled = (char[])word.Clone();
            r.Shuffle(shuffled);
            return Spelled(shuffled);
        });
        return new SkillItem(Name, question, answer, distractors);
    }

    private static string Spelled(IEnumerable<char> letters) => string.Join(' ', letters);
}

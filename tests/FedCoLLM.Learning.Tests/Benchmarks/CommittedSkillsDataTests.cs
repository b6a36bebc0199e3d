using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using FedCoLLM.Benchmarks.Skills;

namespace FedCoLLM.Learning.Tests.Benchmarks;

/// <summary>The committed data/skills is exactly what `fedcollm data skills` makes, and every item is right: each
/// question is solved here again by code that shares nothing with the generator.</summary>
public sealed class CommittedSkillsDataTests
{
    private static string CommittedData => Path.Combine(Fixtures.RepositoryRoot(), "data", "skills");

    [Fact]
    public void Regenerating_with_the_default_seed_reproduces_the_committed_files_byte_for_byte()
    {
        Assert.True(Directory.Exists(CommittedData), $"{CommittedData} is missing");
        var output = Directory.CreateTempSubdirectory("skills-");
        try
        {
            SkillsBenchmark.Generate(new SkillsBenchmarkOptions(), output.FullName);

            var committed = DirectoryHashes.Of(CommittedData);
            var regenerated = DirectoryHashes.Of(output.FullName);
            Assert.Equal(committed.Keys.Order(StringComparer.Ordinal), regenerated.Keys.Order(StringComparer.Ordinal));
            Assert.All(committed, file => Assert.True(
                file.Value == regenerated[file.Key],
                $"{file.Key} differs from a fresh `fedcollm data skills` (regenerate and commit it, or fix the non-determinism)"));
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    [Fact]
    public void Every_committed_item_has_four_distinct_choices_and_its_key_is_the_one_right_answer()
    {
        var files = Directory.EnumerateFiles(CommittedData, "*.jsonl", SearchOption.AllDirectories).ToArray();
        Assert.Equal(13, files.Length); // 4 clients × 3 splits + public
        var items = 0;
        foreach (var line in files.SelectMany(File.ReadLines))
        {
            using var json = JsonDocument.Parse(line);
            var question = json.RootElement.GetProperty("question");
            var stem = question.GetProperty("stem").GetString()!;
            var choices = question.GetProperty("choices").EnumerateArray()
                .ToDictionary(c => c.GetProperty("label").GetString()!, c => c.GetProperty("text").GetString()!);
            var key = json.RootElement.GetProperty("answerKey").GetString()!;

            Assert.Equal(["A", "B", "C", "D"], choices.Keys);
            Assert.Equal(4, choices.Values.Distinct(StringComparer.Ordinal).Count());
            var right = Solve(stem);
            Assert.True(choices[key] == right, $"\"{stem}\": key {key} = \"{choices[key]}\", solved \"{right}\"");
            items++;
        }

        Assert.Equal(4 * (2000 + 200 + 400) + 2000, items);
    }

    [Fact]
    public void No_question_appears_twice_across_splits_and_the_corpus()
    {
        var stems = Directory.EnumerateFiles(CommittedData, "*.jsonl", SearchOption.AllDirectories)
            .SelectMany(File.ReadLines)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("question").GetProperty("stem").GetString()!)
            .ToList();
        var corpus = File.ReadLines(Path.Combine(CommittedData, "corpus", "pretrain.txt")).ToList();
        foreach (var solved in corpus.Take(2000))
            Assert.Equal(Solve(Question(solved)), solved[(solved.LastIndexOf(SkillsBenchmark.AnswerCue, StringComparison.Ordinal) + SkillsBenchmark.AnswerCue.Length + 1)..]);
        stems.AddRange(corpus.Select(Question));

        Assert.Equal(stems.Count, stems.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Answer_positions_are_spread_over_all_four_labels()
    {
        var keys = File.ReadLines(Path.Combine(CommittedData, "public", "train.jsonl"))
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("answerKey").GetString()!)
            .GroupBy(k => k).ToDictionary(g => g.Key, g => g.Count());

        Assert.All(["A", "B", "C", "D"], label => Assert.InRange(keys.GetValueOrDefault(label), 400, 600));
    }

    [Fact]
    public void Committed_tokenizer_keeps_every_digit_and_spelled_letter_a_token_of_its_own()
    {
        var directory = Path.Combine(CommittedData, "tokenizer");
        using var vocabulary = File.OpenRead(Path.Combine(directory, "vocab.json"));
        using var merges = File.OpenRead(Path.Combine(directory, "merges.txt"));
        var tokenizer = Microsoft.ML.Tokenizers.CodeGenTokenizer.Create(vocabulary, merges, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false);
        var sample = string.Join('\n', File.ReadLines(Path.Combine(CommittedData, "corpus", "pretrain.txt")).Take(500));

        Assert.Equal(sample, tokenizer.Decode(tokenizer.EncodeToIds(sample)));
        var pieces = tokenizer.EncodeToTokens("What is 347 + 85? Answer: 432", out _).Select(t => t.Value).ToList();
        Assert.Contains("3", pieces);
        Assert.Contains("4", pieces);
        Assert.DoesNotContain(pieces, p => p.Count(char.IsAsciiDigit) > 1);
    }

    private static string Question(string solved) => solved[..solved.LastIndexOf(SkillsBenchmark.AnswerCue, StringComparison.Ordinal)];

    /// <summary>An independent solver for the four families' question shapes.</summary>
    private static string Solve(string stem)
    {
        static int N(Group g) => int.Parse(g.Value, CultureInfo.InvariantCulture);
        static string T(int n) => n.ToString(CultureInfo.InvariantCulture);
        Match m;
        if ((m = Regex.Match(stem, @"^What is (\d+) ([+-]) (\d+)\?$")).Success)
            return T(m.Groups[2].Value == "+" ? N(m.Groups[1]) + N(m.Groups[3]) : N(m.Groups[1]) - N(m.Groups[3]));
        if ((m = Regex.Match(stem, @"^Which number is the (largest|smallest): ([\d, ]+)\?$")).Success)
        {
            var numbers = m.Groups[2].Value.Split(", ").Select(int.Parse).ToArray();
            return T(m.Groups[1].Value == "largest" ? numbers.Max() : numbers.Min());
        }

        if ((m = Regex.Match(stem, @"^(.+): ([a-z](?: [a-z])+)\.$")).Success)
        {
            var letters = m.Groups[2].Value.Split(' ');
            var result = m.Groups[1].Value switch
            {
                "Reverse the letters" => letters.Reverse(),
                "Sort the letters in alphabetical order" => letters.Order(StringComparer.Ordinal),
                "Move the first letter to the end" => letters.Skip(1).Append(letters[0]),
                var other => throw new InvalidDataException($"unknown letter instruction \"{other}\""),
            };
            return string.Join(' ', result);
        }

        if ((m = Regex.Match(stem, @"has (\d+) \w+\. \w+ buys (\d+) more\.")).Success) return T(N(m.Groups[1]) + N(m.Groups[2]));
        if ((m = Regex.Match(stem, @"has (\d+) \w+\. \w+ gives (\d+) to")).Success) return T(N(m.Groups[1]) - N(m.Groups[2]));
        if ((m = Regex.Match(stem, @"buys (\d+) bags with (\d+) \w+ in each bag")).Success) return T(N(m.Groups[1]) * N(m.Groups[2]));
        if ((m = Regex.Match(stem, @"shares (\d+) \w+ equally among (\d+) friends")).Success) return T(N(m.Groups[1]) / N(m.Groups[2]));
        throw new InvalidDataException($"no solver for \"{stem}\"");
    }
}

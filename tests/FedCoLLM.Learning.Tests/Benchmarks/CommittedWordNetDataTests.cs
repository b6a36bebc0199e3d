using System.Text.Json;
using FedCoLLM.Benchmarks.WordNet;

namespace FedCoLLM.Learning.Tests.Benchmarks;

/// <summary>The committed data/wordnet is exactly what the generator makes from WordNet 3.0 with the default options.</summary>
[Collection(InstalledWordNetCollection.Name)]
public sealed class CommittedWordNetDataTests(InstalledWordNet wordNet)
{
    [Fact]
    public void Regenerating_with_the_default_seed_reproduces_the_committed_files_byte_for_byte()
    {
        Assert.True(Directory.Exists(WordNetFixtures.CommittedData), $"{WordNetFixtures.CommittedData} is missing");
        var output = Directory.CreateTempSubdirectory("wordnet-");
        try
        {
            WordNetBenchmark.Generate(new WordNetBenchmarkOptions(), output.FullName);

            var committed = DirectoryHashes.Of(WordNetFixtures.CommittedData);
            var regenerated = DirectoryHashes.Of(output.FullName);
            Assert.Equal(committed.Keys.Order(StringComparer.Ordinal), regenerated.Keys.Order(StringComparer.Ordinal));
            Assert.All(committed, file => Assert.True(
                file.Value == regenerated[file.Key],
                $"{file.Key} differs from a fresh `fedcollm data wordnet` (regenerate and commit it, or fix the non-determinism)"));
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    [Fact]
    public void Committed_data_stays_under_25_MB()
    {
        var bytes = Directory.EnumerateFiles(WordNetFixtures.CommittedData, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

        Assert.InRange(bytes, 1, 25_000_000);
    }

    [Fact]
    public void Committed_questions_ask_for_the_synset_lemma_among_four_distinct_choices_from_its_domain()
    {
        var byId = wordNet.Nouns.ToDictionary(GlossQuestionGenerator.IdOf);
        var headLemmasByDomain = wordNet.Nouns.GroupBy(s => s.Domain).ToDictionary(g => g.Key, g => g.Select(s => s.HeadLemma).ToHashSet());
        var files = Directory.EnumerateFiles(WordNetFixtures.CommittedData, "*.jsonl", SearchOption.AllDirectories).ToArray();
        Assert.Equal(13, files.Length); // 4 clients × 3 splits + public

        foreach (var line in files.SelectMany(File.ReadLines))
        {
            using var json = JsonDocument.Parse(line);
            var synset = byId[json.RootElement.GetProperty("id").GetString()!];
            var question = json.RootElement.GetProperty("question");
            var choices = question.GetProperty("choices").EnumerateArray()
                .ToDictionary(c => c.GetProperty("label").GetString()!, c => c.GetProperty("text").GetString()!);
            var answerKey = json.RootElement.GetProperty("answerKey").GetString()!;

            Assert.Equal(synset.Definition, question.GetProperty("stem").GetString());
            Assert.Equal(["A", "B", "C", "D"], choices.Keys);
            Assert.Equal(4, choices.Values.Distinct(StringComparer.OrdinalIgnoreCase).Count());
            Assert.Equal(synset.HeadLemma, choices[answerKey]);
            foreach (var (label, text) in choices.Where(c => c.Key != answerKey))
            {
                Assert.Contains(text, headLemmasByDomain[synset.Domain]);
                Assert.DoesNotContain(text, synset.Lemmas, StringComparer.OrdinalIgnoreCase);
            }
        }
    }

    [Fact]
    public void Committed_split_files_share_no_synset()
    {
        var ids = Directory.EnumerateFiles(WordNetFixtures.CommittedData, "*.jsonl", SearchOption.AllDirectories)
            .SelectMany(File.ReadLines)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("id").GetString())
            .ToArray();

        Assert.Equal(ids.Length, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Committed_stems_are_unique_so_every_question_has_one_right_answer()
    {
        var stems = Directory.EnumerateFiles(WordNetFixtures.CommittedData, "*.jsonl", SearchOption.AllDirectories)
            .SelectMany(File.ReadLines)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("question").GetProperty("stem").GetString())
            .ToArray();

        Assert.Equal(stems.Length, stems.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void Committed_tokenizer_loads_in_Microsoft_ML_Tokenizers_and_round_trips_the_corpus()
    {
        var directory = Path.Combine(WordNetFixtures.CommittedData, "tokenizer");
        using var vocabulary = File.OpenRead(Path.Combine(directory, "vocab.json"));
        using var merges = File.OpenRead(Path.Combine(directory, "merges.txt"));
        var tokenizer = Microsoft.ML.Tokenizers.CodeGenTokenizer.Create(vocabulary, merges, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false);
        var sample = string.Join('\n', File.ReadLines(Path.Combine(WordNetFixtures.CommittedData, "corpus", "pretrain.txt")).Take(2000));

        var ids = tokenizer.EncodeToIds(sample);

        Assert.Equal(sample, tokenizer.Decode(ids));
        Assert.All(ids, id => Assert.InRange(id, 0, 4095));
        Assert.True(sample.Length > 2.5 * ids.Count, $"{(double)sample.Length / ids.Count:F2} characters per token (3.3 expected for 4096 tokens); are the merges applied?");
    }
}

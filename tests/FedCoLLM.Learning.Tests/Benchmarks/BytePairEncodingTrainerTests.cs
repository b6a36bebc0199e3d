using System.Text;
using FedCoLLM.Benchmarks.Tokenization;
using Microsoft.ML.Tokenizers;

namespace FedCoLLM.Learning.Tests.Benchmarks;

public sealed class BytePairEncodingTrainerTests
{
    private const string Text = """
        A dog is a member of the genus Canis.
        A dog is a kind of canine.
        A cat is a kind of feline; cats purr.
        The dog's 3 puppies weren't sleeping in 2024 — naïve café owners said so!
        """;

    [Fact]
    public void Vocabulary_holds_the_256_bytes_in_GPT2_order_then_merges_then_endoftext()
    {
        var bpe = BytePairEncodingTrainer.Train(Text, vocabularySize: 300);

        Assert.Equal(300, bpe.Tokens.Count);
        Assert.Equal(43, bpe.Merges.Count);
        Assert.Equal("!", bpe.Tokens[0]);
        Assert.Equal("Ā", bpe.Tokens[188]); // byte 0x00, the first non-printable byte
        Assert.Equal("Ġ", bpe.Tokens[188 + 32]); // the space byte
        Assert.Equal(BytePairEncoding.EndOfText, bpe.Tokens[^1]);
        Assert.Equal(bpe.Tokens.Count, bpe.Tokens.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Most_frequent_pair_is_merged_first_and_ties_go_to_the_ordinally_smaller_pair()
    {
        // Pre-tokens "ab", " cd" and " cd": (Ġ,c) and (c,d) occur twice, (a,b) once; "c" < "Ġ" ordinally.
        var bpe = BytePairEncodingTrainer.Train("ab cd cd", vocabularySize: 260);

        Assert.Equal([("c", "d"), ("Ġ", "cd"), ("a", "b")], bpe.Merges);
    }

    [Fact]
    public void Incremental_training_learns_the_same_merges_as_recounting_every_pair_each_step()
    {
        var text = string.Concat(Enumerable.Repeat(Text, 3)) + " aaaa aaa abab ababab";

        var bpe = BytePairEncodingTrainer.Train(text, vocabularySize: 400);

        Assert.Equal(ReferenceMerges(text, bpe.Merges.Count), bpe.Merges);
    }

    [Fact]
    public void Training_twice_gives_identical_files()
    {
        var first = Files(BytePairEncodingTrainer.Train(Text, 320));
        var second = Files(BytePairEncodingTrainer.Train(Text, 320));

        Assert.Equal(first.Vocabulary, second.Vocabulary);
        Assert.Equal(first.Merges, second.Merges);
    }

    [Fact]
    public void Merges_file_starts_with_the_GPT2_version_line()
    {
        var (_, merges) = Files(BytePairEncodingTrainer.Train(Text, 270));

        Assert.StartsWith("#version: 0.2\n", Encoding.UTF8.GetString(merges));
    }

    [Theory]
    [InlineData("A dog is a kind of canine.")]
    [InlineData("The dog's 3 puppies weren't sleeping in 2024 — naïve café owners said so!")]
    [InlineData("Unseen words: xylophone, 😀 emoji,\ttabs and\nnew lines.")]
    public void Saved_files_load_in_Microsoft_ML_Tokenizers_and_round_trip(string sentence)
    {
        var tokenizer = Load(BytePairEncodingTrainer.Train(Text, 320));

        var ids = tokenizer.EncodeToIds(sentence);

        Assert.Equal(sentence, tokenizer.Decode(ids));
    }

    [Fact]
    public void Loaded_tokenizer_uses_the_learned_merges()
    {
        var bpe = BytePairEncodingTrainer.Train(Text, 320);
        var tokenizer = Load(bpe);

        var ids = tokenizer.EncodeToIds(" dog");

        Assert.Equal([bpe.Tokens.ToList().IndexOf("Ġdog")], ids);
    }

    /// <summary>Textbook BPE: recount all pairs before every merge. Slow, obviously right.</summary>
    private static List<(string, string)> ReferenceMerges(string text, int count)
    {
        var words = BytePairEncodingTrainer.CountPreTokens(text).Select(w => (
            Symbols: Encoding.UTF8.GetBytes(w.Key).Select(b => ByteLevelAlphabet.ToChar(b).ToString()).ToList(),
            Count: w.Value)).ToList();
        var merges = new List<(string, string)>();
        while (merges.Count < count)
        {
            var pairs = new Dictionary<(string, string), long>();
            foreach (var (symbols, n) in words)
            {
                for (var i = 0; i + 1 < symbols.Count; i++)
                {
                    pairs[(symbols[i], symbols[i + 1])] = pairs.GetValueOrDefault((symbols[i], symbols[i + 1])) + n;
                }
            }

            var best = pairs
                .OrderByDescending(p => p.Value)
                .ThenBy(p => p.Key.Item1, StringComparer.Ordinal)
                .ThenBy(p => p.Key.Item2, StringComparer.Ordinal)
                .First().Key;
            merges.Add(best);
            foreach (var (symbols, _) in words)
            {
                for (var i = 0; i + 1 < symbols.Count; i++)
                {
                    if (symbols[i] == best.Item1 && symbols[i + 1] == best.Item2)
                    {
                        symbols[i] += symbols[i + 1];
                        symbols.RemoveAt(i + 1);
                    }
                }
            }
        }

        return merges;
    }

    private static (byte[] Vocabulary, byte[] Merges) Files(BytePairEncoding bpe)
    {
        using var vocabulary = new MemoryStream();
        using var merges = new MemoryStream();
        bpe.WriteVocabulary(vocabulary);
        bpe.WriteMerges(merges);
        return (vocabulary.ToArray(), merges.ToArray());
    }

    private static CodeGenTokenizer Load(BytePairEncoding bpe)
    {
        var (vocabulary, merges) = Files(bpe);
        return CodeGenTokenizer.Create(new MemoryStream(vocabulary), new MemoryStream(merges), addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false);
    }
}

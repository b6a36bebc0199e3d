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

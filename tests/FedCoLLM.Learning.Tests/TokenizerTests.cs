using System.Text.Json.Nodes;
using FedCoLLM.Learning.Tokenization;

namespace FedCoLLM.Learning.Tests;

public class TokenizerTests
{
    [Theory]
    [InlineData("hello world!", new[] { 14, 18, 0 })]
    [InlineData("hello, low", new[] { 14, 1, 9, 5, 6, 8 })]
    public void Gpt2_bpe_applies_merges_in_rank_order(string text, int[] expected)
    {
        var tokenizer = TokenizerFiles.Load(Fixtures.Tokenizer("gpt2-bpe"));
        Assert.Equal(expected, tokenizer.Encode(text));
        Assert.Equal(text, tokenizer.Decode(expected));
    }

    [Fact]
    public void Gpt2_eos_is_endoftext_and_there_is_no_bos()
    {
        var tokenizer = TokenizerFiles.Load(Fixtures.Tokenizer("gpt2-bpe"));
        Assert.Equal(19, tokenizer.EosId);
        Assert.Null(tokenizer.BosId);
        Assert.Equal(20, tokenizer.VocabSize);
    }

    [Fact]
    public void SentencePiece_ids_match_python_sentencepiece()
    {
        var tokenizer = TokenizerFiles.Load(Fixtures.Tokenizer("sentencepiece"));
        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.Tokenizer("sentencepiece"), "expected.json")))!;
        Assert.Equal(expected["eos_id"]!.GetValue<int>(), tokenizer.EosId);
        Assert.Equal(expected["bos_id"]!.GetValue<int>(), tokenizer.BosId);
        Assert.Equal(expected["vocab_size"]!.GetValue<int>(), tokenizer.VocabSize);
        foreach (var probe in expected["probes"]!.AsArray())
        {
            var text = probe!["text"]!.GetValue<string>();
            var ids = probe["ids"]!.AsArray().Select(i => i!.GetValue<int>()).ToArray();
            Assert.Equal(ids, tokenizer.Encode(text));
        }
    }

    [Fact]
    public void SentencePiece_decode_inverts_encode()
    {
        var tokenizer = TokenizerFiles.Load(Fixtures.Tokenizer("sentencepiece"));
        const string text = "The server distills knowledge into small models.";
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Fact]
    public void Directory_without_tokenizer_files_error_lists_the_expected_files()
    {
        using var dir = new TempDirectory();
        var error = Assert.Throws<FileNotFoundException>(() => TokenizerFiles.Load(dir.Path));
        Assert.Contains("vocab.json", error.Message);
        Assert.Contains("merges.txt", error.Message);
        Assert.Contains("tokenizer.model", error.Message);
    }
}

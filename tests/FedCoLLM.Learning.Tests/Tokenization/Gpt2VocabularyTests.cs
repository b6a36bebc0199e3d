using FedCoLLM.Learning.Tokenization;
using Microsoft.ML.Tokenizers;

namespace FedCoLLM.Learning.Tests.Tokenization;

public class Gpt2VocabularyTests
{
    [Fact]
    public void Files_written_from_tiktoken_tokenize_exactly_as_gpt2()
    {
        var directory = Directory.CreateTempSubdirectory("fedcollm-gpt2-vocab-").FullName;
        try
        {
            Gpt2Vocabulary.WriteHuggingFaceFiles(directory);
            var ours = TokenizerFiles.Load(directory);
            Assert.Equal(50_257, ours.VocabSize);
            Assert.Equal(50_256, ours.EosId);
            Assert.Null(ours.BosId);
            Assert.Equal(50_001, File.ReadLines(Path.Combine(directory, TokenizerFiles.Gpt2Merges)).Count()); // header + 50 000 merges, as GPT-2's file
            Assert.Equal([15496, 995], ours.Encode("Hello world")); // GPT-2's ids, as in its encoder.json

            // The merges recovered from the ranks give the same ids as tiktoken's own BPE on text with spaces,
            // punctuation, digits, non-ASCII, long words (where merge order matters) and runs of spaces (which CodeGen's own
            // tokenizer would map to its extra whitespace ids ≥ 50 257, past GPT-2's vocabulary).
            var reference = TiktokenTokenizer.CreateForModel("gpt2");
            string[] texts =
            [
                "The name for a river flowing southwest from Oregon through northern California to the Pacific Ocean is Klamath",
                "a young upwardly mobile professional individual; a well-paid middle-class professional who works in a city",
                "Ünïcödé — naïve café, 東京 2024: 3.14159 tokens!?\n\tindentation and newlines",
                "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
                "What is  864 + 560?   Answer:\n    def f():\n        return  1  \t\t x   ",
                "  leading spaces, <|endoftext|> inside, and trailing ones    ",
            ];
            foreach (var text in texts)
                Assert.Equal(reference.EncodeToIds(text).ToArray(), ours.Encode(text));
            Assert.All(texts, t => Assert.All(ours.Encode(t), id => Assert.InRange(id, 0, ours.VocabSize - 1)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

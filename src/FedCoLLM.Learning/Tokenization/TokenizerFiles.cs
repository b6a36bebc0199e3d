using Microsoft.ML.Tokenizers;

namespace FedCoLLM.Learning.Tokenization;

/// <summary>Builds the <see cref="TextTokenizer"/> for whichever Hugging Face tokenizer files sit in a
/// checkpoint directory: GPT-2's byte-level BPE (<c>vocab.json</c> + <c>merges.txt</c>) or LLaMA's
/// SentencePiece model (<c>tokenizer.model</c>).</summary>
public static class TokenizerFiles
{
    public const string Gpt2Vocabulary = "vocab.json";
    public const string Gpt2Merges = "merges.txt";
    public const string SentencePieceModel = "tokenizer.model";
    public const string Gpt2EndOfText = "<|endoftext|>";

    public static TextTokenizer Load(string directory)
    {
        string vocab = Path.Combine(directory, Gpt2Vocabulary), merges = Path.Combine(directory, Gpt2Merges);
        string sentencePiece = Path.Combine(directory, SentencePieceModel);
        if (File.Exists(vocab) && File.Exists(merges)) return LoadGpt2(vocab, merges);
        if (File.Exists(sentencePiece)) return LoadSentencePiece(sentencePiece);
        throw new FileNotFoundException(
            $"No tokenizer files in '{directory}': expected {Gpt2Vocabulary} + {Gpt2Merges} (GPT-2 byte-level BPE) or {SentencePieceModel} (LLaMA SentencePiece). " +
            "A tokenizer.json alone is not supported; download the slow-tokenizer files of the checkpoint as well.");
    }

    static TextTokenizer LoadGpt2(string vocab, string merges)
    {
        using var vocabStream = File.OpenRead(vocab);
        using var mergesStream = File.OpenRead(merges);
        // CodeGen's tokenizer is GPT-2's byte-level BPE (same pre-tokenizer regex and byte↔unicode map).
        // No prefix space and no special tokens, as GPT2TokenizerFast encodes by default.
        var tokenizer = CodeGenTokenizer.Create(vocabStream, mergesStream, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false);
        if (!tokenizer.Vocabulary.TryGetValue(Gpt2EndOfText, out int eos))
            throw new InvalidDataException($"'{vocab}' has no {Gpt2EndOfText} token, which GPT-2 uses to end a sequence.");
        return new TextTokenizer(tokenizer, eos, bosId: null, tokenizer.Vocabulary.Values.Max() + 1);
    }

    static TextTokenizer LoadSentencePiece(string model)
    {
        using var stream = File.OpenRead(model);
        var tokenizer = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        return new TextTokenizer(tokenizer, tokenizer.EndOfSentenceId, tokenizer.BeginningOfSentenceId, tokenizer.Vocabulary.Values.Max() + 1);
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace FedCoLLM.Learning.Tokenization;

/// <summary>Builds the <see cref="TextTokenizer"/> for whichever Hugging Face tokenizer files sit in a
/// checkpoint directory: GPT-2's byte-level BPE (<c>vocab.json</c> + <c>merges.txt</c>) or LLaMA's
/// SentencePiece model (<c>tokenizer.model</c>), with the BOS policy of its <c>tokenizer_config.json</c>.</summary>
public static class TokenizerFiles
{
    public const string Gpt2Vocabulary = "vocab.json";
    public const string Gpt2Merges = "merges.txt";
    public const string SentencePieceModel = "tokenizer.model";
    public const string Gpt2EndOfText = "<|endoftext|>";
    public const string TokenizerConfig = "tokenizer_config.json";

    /// <summary>GPT-2's pre-tokenizer split, as its encoder.py defines it: contractions, letters, digits and other
    /// symbols each with an optional leading space, and whitespace runs (all but the last space of a run before a word).</summary>
    static readonly Regex Gpt2PreTokenizer = new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.Compiled);

    public static TextTokenizer Load(string directory)
    {
        string vocab = Path.Combine(directory, Gpt2Vocabulary), merges = Path.Combine(directory, Gpt2Merges);
        string sentencePiece = Path.Combine(directory, SentencePieceModel);
        if (File.Exists(vocab) && File.Exists(merges)) return LoadGpt2(vocab, merges, directory);
        if (File.Exists(sentencePiece)) return LoadSentencePiece(sentencePiece, directory);
        throw new FileNotFoundException(
            $"No tokenizer files in '{directory}': expected {Gpt2Vocabulary} + {Gpt2Merges} (GPT-2 byte-level BPE) or {SentencePieceModel} (LLaMA SentencePiece). " +
            "A tokenizer.json alone is not supported; download the slow-tokenizer files of the checkpoint as well.");
    }

    static TextTokenizer LoadGpt2(string vocab, string merges, string directory)
    {
        if (ReadJson(vocab)[Gpt2EndOfText] is not { } eosNode || eosNode.GetValueKind() != JsonValueKind.Number)
            throw new InvalidDataException($"'{vocab}' has no {Gpt2EndOfText} token, which GPT-2 uses to end a sequence.");
        int eos = eosNode.GetValue<int>();
        // GPT-2's byte-level BPE with its one special token, <|endoftext|>, and no prefix space, BOS or EOS added (as
        // GPT2TokenizerFast encodes by default). Not CodeGenTokenizer.Create, which adds CodeGen's own special tokens: runs
        // of 2–31 spaces as ids ≥ 50 257, which a GPT-2 vocabulary does not have (a double space indexed past the embedding).
        var special = new Dictionary<string, int> { [Gpt2EndOfText] = eos };
        var tokenizer = BpeTokenizer.Create(new BpeOptions(vocab, merges)
        {
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(Gpt2PreTokenizer, special),
            SpecialTokens = special,
        });
        // GPT2Tokenizer's bos_token is <|endoftext|> too; it is prepended only if add_bos_token says so (default false).
        int? bos = AddsBos(directory, byDefault: false) ? CheckedBos(eos, directory) : null;
        return new TextTokenizer(tokenizer, eos, bos, tokenizer.Vocabulary.Values.Max() + 1);
    }

    static TextTokenizer LoadSentencePiece(string model, string directory)
    {
        using var stream = File.OpenRead(model);
        var tokenizer = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        // LlamaTokenizer's add_bos_token defaults to true: LLaMA models were trained on sequences that start with <s>.
        int? bos = AddsBos(directory, byDefault: true) ? CheckedBos(tokenizer.BeginningOfSentenceId, directory) : null;
        return new TextTokenizer(tokenizer, tokenizer.EndOfSentenceId, bos, tokenizer.Vocabulary.Values.Max() + 1);
    }

    static bool AddsBos(string directory, bool byDefault)
    {
        var path = Path.Combine(directory, TokenizerConfig);
        if (!File.Exists(path)) return byDefault;
        var value = ReadJson(path)["add_bos_token"];
        if (value is null) return byDefault;
        return value.GetValueKind() is JsonValueKind.True or JsonValueKind.False
            ? value.GetValue<bool>()
            : throw new InvalidDataException($"'{path}': \"add_bos_token\" is {value.ToJsonString()}; it should be true or false.");
    }

    /// <summary>The tokenizer's BOS, refused if the model's config.json names another bos_token_id: the model would
    /// then have been trained on sequences starting with a token this tokenizer does not prepend.</summary>
    static int CheckedBos(int bos, string directory)
    {
        var path = Path.Combine(directory, Models.PretrainedModels.ConfigFile);
        if (File.Exists(path) && ReadJson(path)["bos_token_id"] is { } node && node.GetValueKind() == JsonValueKind.Number && node.GetValue<int>() != bos)
            throw new InvalidDataException($"'{path}' has bos_token_id {node.GetValue<int>()} but the tokenizer in '{directory}' begins sequences with id {bos}; the tokenizer and the model do not belong together.");
        return bos;
    }

    static JsonObject ReadJson(string path)
    {
        try { return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"'{path}' does not hold a JSON object."); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e); }
    }
}

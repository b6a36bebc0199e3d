using FedCoLLM.Learning.Data;
using Microsoft.ML.Tokenizers;

namespace FedCoLLM.Learning.Tokenization;

/// <summary>
/// Text ↔ token ids for one checkpoint, over Microsoft.ML.Tokenizers. <see cref="Encode"/> adds no special tokens
/// (the pre-training corpus frames sequences with <see cref="EosId"/> itself); <see cref="EncodePair"/> builds the
/// prompt ⊕ answer sequences of training and evaluation as Hugging Face's tokenizer would encode their concatenation.
/// </summary>
public sealed class TextTokenizer
{
    readonly Tokenizer tokenizer;

    internal TextTokenizer(Tokenizer tokenizer, int eosId, int? bosId, int vocabSize)
    {
        this.tokenizer = tokenizer;
        EosId = eosId;
        BosId = bosId;
        VocabSize = vocabSize;
    }

    /// <summary>End of sequence: GPT-2's &lt;|endoftext|&gt;, LLaMA's &lt;/s&gt;.</summary>
    public int EosId { get; }

    /// <summary>The token <see cref="EncodePair"/> puts first (LLaMA's &lt;s&gt;), as the checkpoint's
    /// tokenizer_config.json <c>add_bos_token</c> asks; null when nothing is prepended (GPT-2).</summary>
    public int? BosId { get; }

    /// <summary>One more than the largest id the tokenizer can produce.</summary>
    public int VocabSize { get; }

    public int[] Encode(string text) =>
        tokenizer.EncodeToIds(text, considerPreTokenization: true, considerNormalization: true).ToArray();

    public string Decode(IEnumerable<int> ids) => tokenizer.Decode(ids);

    /// <summary>
    /// [BOS] ⊕ ids(prompt + answer), split where the prompt's own encoding stops agreeing with it. Encoding the two
    /// apart is wrong for SentencePiece: its dummy prefix turns " Paris" alone into "▁" "▁Paris" (or "oxygen" into
    /// "▁oxygen"), which the joint text never contains. Splitting the joint ids keeps the model's input exactly what a
    /// Hugging Face tokenizer gives for the whole text; when a token straddles the boundary (a prompt ending in a
    /// space, whose "▁" joins the answer's first word), it counts as answer. For GPT-2 byte-level BPE with an answer
    /// that starts with a space, the split equals the separate encodings, since " word" always starts a pre-token.
    /// </summary>
    public TokenizedExample EncodePair(string prompt, string answer)
    {
        int[] joint = Encode(prompt + answer), alone = Encode(prompt);
        int shared = joint.AsSpan().CommonPrefixLength(alone);
        int[] promptIds = BosId is int bos ? [bos, .. joint[..shared]] : joint[..shared];
        return new TokenizedExample(promptIds, joint[shared..]);
    }
}

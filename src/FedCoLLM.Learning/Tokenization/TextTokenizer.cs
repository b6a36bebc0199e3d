using Microsoft.ML.Tokenizers;

namespace FedCoLLM.Learning.Tokenization;

/// <summary>
/// Text ↔ token ids for one checkpoint, over Microsoft.ML.Tokenizers. <see cref="Encode"/> adds no
/// special tokens: callers that want LLaMA's leading &lt;s&gt; prepend <see cref="BosId"/> themselves, and
/// sequence ends get <see cref="EosId"/>, so both families are framed by the same code.
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

    /// <summary>Beginning of sequence (LLaMA's &lt;s&gt;); null for GPT-2, which has none.</summary>
    public int? BosId { get; }

    /// <summary>One more than the largest id the tokenizer can produce.</summary>
    public int VocabSize { get; }

    public int[] Encode(string text) =>
        tokenizer.EncodeToIds(text, considerPreTokenization: true, considerNormalization: true).ToArray();

    public string Decode(IEnumerable<int> ids) => tokenizer.Decode(ids);
}

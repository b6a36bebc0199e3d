namespace FedCoLLM.Learning.Models;

/// <summary>Architecture hyper-parameters read from (and written to) a Hugging Face <c>config.json</c>.</summary>
public abstract record ModelConfig
{
    /// <summary>Hugging Face's <c>model_type</c>: "gpt2" or "llama".</summary>
    public abstract string ModelType { get; }
    public abstract long VocabSize { get; }
    public abstract int MaxSequenceLength { get; }
}

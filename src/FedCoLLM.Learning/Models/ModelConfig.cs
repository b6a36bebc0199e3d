namespace FedCoLLM.Learning.Models;

/// <summary>Architecture hyper-parameters read from (and written to) a Hugging Face <c>config.json</c>.</summary>
public abstract record ModelConfig
{
    /// <summary>Hugging Face's <c>model_type</c>: "gpt2" or "llama".</summary>
    public abstract string ModelType { get; }
    public abstract long VocabSize { get; }
    public abstract int MaxSequenceLength { get; }

    /// <summary>Whether the family's projections store W as [in, out] (GPT-2's Conv1D) rather than nn.Linear's
    /// [out, in] (LLaMA): PEFT's <c>fan_in_fan_out</c>. The models build their projections from it, so an adapter's
    /// config.json can state it from config.json alone, without loading the model.</summary>
    public abstract bool FanInFanOut { get; }
}

using FedCoLLM.Learning.Models;

namespace FedCoLLM.Learning.Pretraining;

/// <summary>
/// The built-in LLM/SLM pair: GPT-2-shaped models pre-trained from scratch on one corpus with one tokenizer
/// (FedCoLLM needs a shared vocabulary). The SLM has under an eighth of the LLM's parameters, so the LLM
/// can memorise more of the corpus' world knowledge — the knowledge FedCoLLM distils into the SLM.
/// </summary>
public sealed record PretrainPreset(string Name, int Width, int Layers, int Heads, int Context, int BatchSize, int Steps, double LearningRate)
{
    public static readonly PretrainPreset Llm = new("llm", Width: 256, Layers: 6, Heads: 8, Context: 128, BatchSize: 16, Steps: 2000, LearningRate: 1e-3);
    public static readonly PretrainPreset Slm = new("slm", Width: 64, Layers: 4, Heads: 4, Context: 128, BatchSize: 16, Steps: 2000, LearningRate: 2e-3);

    public static PretrainPreset Named(string name) => name switch
    {
        "llm" => Llm,
        "slm" => Slm,
        _ => throw new ArgumentException($"--preset \"{name}\" is unknown; use \"llm\" or \"slm\".", nameof(name)),
    };

    /// <summary>No dropout: these models see each sentence only once or twice, far from over-fitting.</summary>
    public Gpt2Config ModelConfig(long vocabSize) =>
        new(vocabSize, NPositions: Context, NEmbd: Width, NLayer: Layers, NHead: Heads, EmbdPdrop: 0, AttnPdrop: 0, ResidPdrop: 0);
}

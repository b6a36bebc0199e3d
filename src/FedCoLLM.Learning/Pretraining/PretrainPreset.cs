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

    /// <summary>The preset with any of its shape or schedule replaced (null keeps the preset's value); refuses a width
    /// the heads do not divide, naming both options.</summary>
    public PretrainPreset With(int? steps = null, int? width = null, int? layers = null, int? heads = null, double? learningRate = null, int? batchSize = null)
    {
        var p = this with
        {
            Steps = steps ?? Steps, Width = width ?? Width, Layers = layers ?? Layers, Heads = heads ?? Heads,
            LearningRate = learningRate ?? LearningRate, BatchSize = batchSize ?? BatchSize,
        };
        if (p.Steps < 1 || p.BatchSize < 1 || p.Width < 1 || p.Layers < 1 || p.Heads < 1 || p.LearningRate <= 0)
            throw new ArgumentException($"--steps {p.Steps}, --batch-size {p.BatchSize}, --width {p.Width}, --layers {p.Layers}, --heads {p.Heads}, --learning-rate {p.LearningRate}: each must be positive.");
        if (p.Width % p.Heads != 0)
            throw new ArgumentException($"--width {p.Width} is not divisible by --heads {p.Heads}; choose a width that is a multiple of the heads.");
        return p;
    }

    /// <summary>No dropout: these models see each sentence only once or twice, far from over-fitting.</summary>
    public Gpt2Config ModelConfig(long vocabSize) =>
        new(vocabSize, NPositions: Context, NEmbd: Width, NLayer: Layers, NHead: Heads, EmbdPdrop: 0, AttnPdrop: 0, ResidPdrop: 0);
}

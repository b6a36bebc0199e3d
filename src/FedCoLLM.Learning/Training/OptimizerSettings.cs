namespace FedCoLLM.Learning.Training;

public enum LearningRateScheduleKind { Constant, CosineWithWarmup }

/// <summary>AdamW and its schedule. Defaults are Hugging Face Trainer's (lr 5e-5, β = (0.9, 0.999),
/// ε = 1e-8, no weight decay, max_grad_norm 1.0), which FATE-LLM's FedCoLLM inherits.</summary>
public sealed record OptimizerSettings
{
    public double LearningRate { get; init; } = 5e-5;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;
    public double WeightDecay { get; init; } = 0.0;
    /// <summary>Global L2 norm the gradient is clipped to; 0 disables clipping.</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    public LearningRateScheduleKind Schedule { get; init; } = LearningRateScheduleKind.Constant;
    /// <summary>Fraction of the optimizer steps spent warming up linearly (cosine schedule only).</summary>
    public double WarmupRatio { get; init; } = 0.0;

    public void Validate()
    {
        Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), "a finite value > 0, e.g. 3e-4");
        Require(Beta1 is >= 0 and < 1, nameof(Beta1), "a value in [0, 1)");
        Require(Beta2 is >= 0 and < 1, nameof(Beta2), "a value in [0, 1)");
        Require(Epsilon > 0, nameof(Epsilon), "a value > 0");
        Require(WeightDecay >= 0, nameof(WeightDecay), "a value ≥ 0");
        Require(MaxGradNorm >= 0, nameof(MaxGradNorm), "a value ≥ 0 (0 disables clipping)");
        Require(WarmupRatio is >= 0 and < 1, nameof(WarmupRatio), "a value in [0, 1)");
    }

    internal static void Require(bool ok, string field, string expected)
    {
        if (!ok) throw new ArgumentException($"{field} is out of range; set it to {expected}.", field);
    }
}

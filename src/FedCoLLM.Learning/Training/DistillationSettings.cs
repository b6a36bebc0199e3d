using FedCoLLM.Learning.Losses;

namespace FedCoLLM.Learning.Training;

/// <summary>Server-side distillation: loss = CE(answer tokens) + Lambda · KD(teacher top-k ‖ student), or Lambda · KD
/// alone when <see cref="PublicCrossEntropy"/> is off (the KD-only ablation of issue 16).</summary>
public sealed record DistillationSettings
{
    public double Lambda { get; init; } = 1.0;
    public DistillationOptions Kd { get; init; } = new();
    /// <summary>Whether the loss includes the CE on the public set's gold answers (FedCoLLM's default). Off, the student
    /// learns from the teacher's logits only, so Lambda must be &gt; 0.</summary>
    public bool PublicCrossEntropy { get; init; } = true;

    public void Validate()
    {
        OptimizerSettings.Require(Lambda >= 0 && double.IsFinite(Lambda), nameof(Lambda), "a finite value ≥ 0");
        OptimizerSettings.Require(PublicCrossEntropy || Lambda > 0, nameof(Lambda),
            $"> 0 when {nameof(PublicCrossEntropy)} is off (with neither CE nor KD the loss is empty)");
    }
}

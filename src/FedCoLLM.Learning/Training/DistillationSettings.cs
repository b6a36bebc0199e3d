using FedCoLLM.Learning.Losses;

namespace FedCoLLM.Learning.Training;

/// <summary>Server-side distillation: loss = CE(answer tokens) + Lambda · KD(teacher top-k ‖ student).</summary>
public sealed record DistillationSettings
{
    public double Lambda { get; init; } = 1.0;
    public DistillationOptions Kd { get; init; } = new();

    public void Validate() =>
        OptimizerSettings.Require(Lambda >= 0 && double.IsFinite(Lambda), nameof(Lambda), "a finite value ≥ 0");
}

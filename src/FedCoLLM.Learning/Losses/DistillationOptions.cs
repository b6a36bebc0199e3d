namespace FedCoLLM.Learning.Losses;

public enum DistillationReduction
{
    /// <summary>Mean over answer positions (recommended, brief §1.4: λ keeps its meaning across batch sizes).</summary>
    Mean,
    /// <summary>Sum over answer positions (what FATE's code does; its scale grows with batch × answer length, B13).</summary>
    Sum,
}

/// <summary>
/// Settings of the sparse top-k KD loss. Defaults follow FATE's code defaults (T = 1, k = 128, no T²) but
/// with a mean reduction; whether the paper uses T², mean or sum is not stated (brief §1.4 [NOT FOUND]).
/// </summary>
public sealed record DistillationOptions(
    double Temperature = 1.0,
    int TopK = 128,
    DistillationReduction Reduction = DistillationReduction.Mean,
    bool ScaleByTemperatureSquared = false)
{
    public void Validate()
    {
        if (!(Temperature > 0) || double.IsInfinity(Temperature))
            throw new ArgumentException($"Temperature = {Temperature}; it must be a finite number > 0.", nameof(Temperature));
        if (TopK < 1)
            throw new ArgumentException($"TopK = {TopK}; it must be at least 1.", nameof(TopK));
    }
}

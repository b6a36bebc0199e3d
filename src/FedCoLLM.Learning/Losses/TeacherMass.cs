using static TorchSharp.torch;

namespace FedCoLLM.Learning.Losses;

/// <summary>
/// How much of a teacher's distribution the sparse top-k KD never sees (issue 16): per answer position j,
/// <code>
///   mass_out(j) = 1 − Σ_{v ∈ top-k(z_j)} softmax(z_j / T)_v = 1 − exp(logsumexp(z_j[S_j] / T) − logsumexp(z_j / T))
/// </code>
/// at the job's temperature T (the top-k set is the same at every T; its share is not: a larger T flattens the
/// distribution and moves mass into the tail). <see cref="TopKDistillationLoss"/> renormalises the teacher over its k
/// entries, so this is the share of the full teacher the student is told nothing about. It needs the dense [N,V]
/// logits, so it is computed in the teacher pass, where they exist; the stored top-k alone cannot give it.
/// </summary>
public static class TeacherMass
{
    /// <summary>Per-row mass outside the top-k [N] (float64, clamped to [0, 1]) of dense logits [N,V], given the
    /// rows' top-k logits [N,k] (as <see cref="TopKTeacher.Extract"/> returns them) and the temperature.</summary>
    public static Tensor OutsideTopK(Tensor logits, Tensor topLogits, double temperature)
    {
        if (logits.dim() != 2 || topLogits.dim() != 2 || logits.shape[0] != topLogits.shape[0])
            throw new ArgumentException($"logits [{string.Join(", ", logits.shape)}] must be [N, V] and topLogits [{string.Join(", ", topLogits.shape)}] [N, k] with the same N.", nameof(topLogits));
        if (!(temperature > 0) || !double.IsFinite(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be a finite number > 0.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // log-sum-exp in float64: at k = V the two terms are the same sum in another order, and the difference is the answer.
        var all = logits.to(ScalarType.Float64).div(temperature).logsumexp(1);
        var top = topLogits.to(ScalarType.Float64, logits.device).div(temperature).logsumexp(1);
        var mass = top.sub(all).exp().neg().add(1.0).clamp(0.0, 1.0);
        return scope.MoveToOuter(mass);
    }

    /// <summary>The same from dense logits alone: top-k of each row, then <see cref="OutsideTopK(Tensor, Tensor, double)"/>.</summary>
    public static Tensor OutsideTopK(Tensor logits, int k, double temperature)
    {
        using var scope = NewDisposeScope();
        var (_, top) = TopKTeacher.Extract(logits, k);
        return scope.MoveToOuter(OutsideTopK(logits, top, temperature));
    }
}

/// <summary>A running mean of <see cref="TeacherMass.OutsideTopK(Tensor, Tensor, double)"/> over answer positions, batch
/// by batch (a teacher pass sees the public set in length-sorted batches).</summary>
public sealed class TeacherMassTally(double temperature)
{
    double sum;

    public double Temperature { get; } = temperature;
    /// <summary>Answer positions counted so far.</summary>
    public long Positions { get; private set; }
    /// <summary>Mean mass outside the top-k over every position counted; NaN before the first.</summary>
    public double Mean => Positions == 0 ? double.NaN : sum / Positions;

    public void Add(Tensor logits, Tensor topLogits)
    {
        using var mass = TeacherMass.OutsideTopK(logits, topLogits, Temperature);
        using var total = mass.sum();
        sum += total.item<double>();
        Positions += mass.shape[0];
    }
}

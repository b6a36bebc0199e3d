using FedCoLLM.Learning.Losses;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests.Losses;

/// <summary>The teacher's probability mass outside its top-k (issue 16): 1 − Σ_top-k softmax(z/T), checked against the
/// formula evaluated by hand in doubles, 0 when k = V, and averaged over answer positions across batches.</summary>
public class TeacherMassTests
{
    static readonly double[][] Rows =
    [
        [2.0, -1.0, 0.5, 3.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [10.0, 9.5, -3.0, 1.0, 2.0],
    ];

    static Tensor Logits() => tensor(Rows.SelectMany(r => r.Select(x => (float)x)).ToArray(), [Rows.Length, Rows[0].Length]);

    /// <summary>1 − Σ of the k largest of softmax(z/T), in plain doubles.</summary>
    static double ByHand(double[] z, int k, double t)
    {
        var e = z.Select(x => Math.Exp(x / t)).ToArray();
        double sum = e.Sum();
        return 1 - e.OrderDescending().Take(k).Sum() / sum;
    }

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(2, 1.0)]
    [InlineData(2, 2.0)]
    [InlineData(3, 0.5)]
    [InlineData(4, 4.0)]
    public void Mass_outside_the_top_k_is_one_minus_the_top_k_softmax_at_T(int k, double t)
    {
        using var mass = TeacherMass.OutsideTopK(Logits(), k, t);
        Assert.Equal(ScalarType.Float64, mass.dtype);
        var got = mass.data<double>().ToArray();
        for (int i = 0; i < Rows.Length; i++)
            Assert.Equal(ByHand(Rows[i], k, t), got[i], 6);
        // The uniform row by hand: (V − k) / V at every T.
        Assert.Equal((5.0 - k) / 5.0, got[1], 6);
    }

    [Fact]
    public void A_higher_temperature_moves_mass_out_of_the_top_k()
    {
        using var cold = TeacherMass.OutsideTopK(Logits(), 2, 1.0);
        using var hot = TeacherMass.OutsideTopK(Logits(), 2, 4.0);
        Assert.True(hot[0].item<double>() > cold[0].item<double>() + 0.05);
        Assert.True(hot[2].item<double>() > cold[2].item<double>() + 0.05);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public void Mass_is_zero_when_k_is_the_whole_vocabulary(double t)
    {
        using var logits = randn(7, 50, generator: new Generator(3)).mul(4);
        using var mass = TeacherMass.OutsideTopK(logits, 50, t);
        Assert.All(mass.data<double>().ToArray(), m => Assert.InRange(m, 0.0, 1e-12));
    }

    [Fact]
    public void The_tally_averages_over_answer_positions_not_over_batches()
    {
        using var logits = Logits();
        var tally = new TeacherMassTally(2.0);
        Assert.True(double.IsNaN(tally.Mean));
        var (_, top1) = TopKTeacher.Extract(logits.narrow(0, 0, 1), 2);
        var (_, top2) = TopKTeacher.Extract(logits.narrow(0, 1, 2), 2);
        tally.Add(logits.narrow(0, 0, 1), top1);
        tally.Add(logits.narrow(0, 1, 2), top2);
        Assert.Equal(3, tally.Positions);
        Assert.Equal(Rows.Average(r => ByHand(r, 2, 2.0)), tally.Mean, 6);
    }

    [Fact]
    public void Mismatched_rows_and_bad_temperatures_are_refused()
    {
        using var logits = Logits();
        Assert.Throws<ArgumentException>(() => TeacherMass.OutsideTopK(logits, zeros(2, 2), 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TeacherMass.OutsideTopK(logits, 2, 0.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TeacherMass.OutsideTopK(logits, 2, double.PositiveInfinity));
    }
}

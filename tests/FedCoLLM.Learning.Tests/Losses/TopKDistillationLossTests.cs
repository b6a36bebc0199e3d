using FedCoLLM.Learning.Losses;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests.Losses;

public class TopKDistillationLossTests
{
    private static (Tensor Student, Tensor Indices, Tensor TeacherLogits) Random(int n, int v, int k, long seed, ScalarType dtype = ScalarType.Float64)
    {
        var g = new Generator((ulong)seed);
        var student = randn([n, v], dtype, generator: g).mul_(2.0);
        var (idx, tl) = TopKTeacher.Extract(randn([n, v], generator: g).mul_(2.0), k);
        return (student, idx, tl);
    }

    /// <summary>Brief §1.4 written out element by element in double precision.</summary>
    private static double ExplicitLoss(Tensor student, Tensor indices, Tensor teacherLogits, DistillationOptions o)
    {
        int n = (int)student.shape[0], v = (int)student.shape[1], k = (int)indices.shape[1];
        var z = student.to(ScalarType.Float64).data<double>().ToArray();
        var idx = indices.to(ScalarType.Int64).data<long>().ToArray();
        var tl = teacherLogits.to(ScalarType.Float64).data<double>().ToArray();
        double T = o.Temperature, total = 0;
        for (int j = 0; j < n; j++)
        {
            double zMax = double.NegativeInfinity;
            for (int u = 0; u < v; u++) zMax = Math.Max(zMax, z[j * v + u] / T);
            double zSum = 0;
            for (int u = 0; u < v; u++) zSum += Math.Exp(z[j * v + u] / T - zMax);
            double lse = zMax + Math.Log(zSum);

            double tSum = 0;
            for (int m = 0; m < k; m++) tSum += Math.Exp(tl[j * k + m] / T);
            double kl = 0;
            for (int m = 0; m < k; m++)
            {
                double p = Math.Exp(tl[j * k + m] / T) / tSum;
                double logQ = z[j * v + idx[j * k + m]] / T - lse;
                kl += p * (Math.Log(p) - logQ);
            }
            total += kl;
        }
        if (o.Reduction == DistillationReduction.Mean) total /= n;
        if (o.ScaleByTemperatureSquared) total *= T * T;
        return total;
    }

    public static TheoryData<double, int, DistillationReduction, bool> Settings => new()
    {
        { 1.0, 1, DistillationReduction.Mean, false },
        { 1.0, 5, DistillationReduction.Sum, false },
        { 2.0, 8, DistillationReduction.Mean, true },
        { 0.5, 17, DistillationReduction.Sum, true },
        { 3.0, 17, DistillationReduction.Mean, false },
    };

    [Theory, MemberData(nameof(Settings))]
    public void Loss_equals_an_explicit_double_precision_loop(double t, int k, DistillationReduction reduction, bool tSquared)
    {
        var options = new DistillationOptions(t, k, reduction, tSquared);
        var (z, idx, tl) = Random(6, 17, k, seed: 7);
        double expected = ExplicitLoss(z, idx, tl, options);
        var loss = new TopKDistillationLoss(options);
        Assert.Equal(expected, loss.Compute(z, idx, tl).item<double>(), 10);
        Assert.Equal(expected, loss.ComputeComposed(z, idx, tl).item<double>(), 10);
    }

    [Fact]
    public void Float32_student_matches_the_explicit_loop_to_single_precision()
    {
        var options = new DistillationOptions(2.0, 4);
        var (z, idx, tl) = Random(5, 40, 4, seed: 3, ScalarType.Float32);
        Assert.Equal(ExplicitLoss(z, idx, tl, options), new TopKDistillationLoss(options).Compute(z, idx, tl).item<float>(), 4);
    }

    [Fact]
    public void Loss_is_zero_when_student_equals_teacher_and_k_is_the_vocabulary()
    {
        var g = new Generator(11);
        var logits = randn([4, 9], ScalarType.Float64, generator: g);
        var (idx, tl) = TopKTeacher.Extract(logits, 9);
        var loss = new TopKDistillationLoss(new DistillationOptions(Temperature: 1.7, TopK: 9)).Compute(logits.to(ScalarType.Float32).to(ScalarType.Float64), idx, tl);
        Assert.Equal(0.0, loss.item<double>(), 6);
    }

    [Theory]
    [InlineData(1.0, DistillationReduction.Mean, false)]
    [InlineData(2.5, DistillationReduction.Sum, true)]
    public void Gradient_matches_central_finite_differences(double t, DistillationReduction reduction, bool tSquared)
    {
        var options = new DistillationOptions(t, 4, reduction, tSquared);
        var loss = new TopKDistillationLoss(options);
        var (z0, idx, tl) = Random(3, 7, 4, seed: 5);
        var z = z0.clone().requires_grad_(true);
        loss.Compute(z, idx, tl).backward();
        var analytic = z.grad!.data<double>().ToArray();

        const double eps = 1e-6;
        var flat = z0.reshape(-1);
        for (int e = 0; e < flat.shape[0]; e++)
        {
            var plus = z0.clone(); plus.reshape(-1)[e] += eps;
            var minus = z0.clone(); minus.reshape(-1)[e] -= eps;
            double numeric = (loss.Compute(plus, idx, tl).item<double>() - loss.Compute(minus, idx, tl).item<double>()) / (2 * eps);
            Assert.Equal(numeric, analytic[e], tolerance: 1e-7);
        }
    }

    [Fact]
    public void Gradient_reaches_the_student_logits_and_is_not_zero()
    {
        // FATE's B7: the student went through a detached copy, so KD trained nothing.
        var (z0, idx, tl) = Random(4, 30, 8, seed: 9, ScalarType.Float32);
        var z = z0.requires_grad_(true);
        var l = new TopKDistillationLoss(new DistillationOptions()with { TopK = 8 }).Compute(z, idx, tl);
        Assert.True(l.requires_grad);
        l.backward();
        Assert.NotNull(z.grad);
        Assert.True(z.grad!.abs().max().item<float>() > 1e-4f);
    }

    [Fact]
    public void Gradient_of_each_row_sums_to_zero_because_softmax_and_teacher_both_sum_to_one()
    {
        var (z0, idx, tl) = Random(4, 30, 8, seed: 2);
        var z = z0.requires_grad_(true);
        new TopKDistillationLoss(new DistillationOptions(2.0, 8)).Compute(z, idx, tl).backward();
        Assert.True(z.grad!.sum(1).abs().max().item<double>() < 1e-12);
    }

    [Fact]
    public void Int64_and_int32_teacher_indices_give_the_same_loss()
    {
        var (z, idx, tl) = Random(3, 12, 5, seed: 4);
        var loss = new TopKDistillationLoss(new DistillationOptions(TopK: 5));
        Assert.Equal(loss.Compute(z, idx, tl).item<double>(), loss.Compute(z, idx.to(ScalarType.Int64), tl).item<double>(), 12);
    }

    [Fact]
    public void No_answer_positions_give_zero_loss_with_a_gradient_path()
    {
        var z = zeros([0, 10], requires_grad: true);
        var l = new TopKDistillationLoss(new DistillationOptions(TopK: 3)).Compute(z, zeros([0, 3], ScalarType.Int32), zeros(0, 3));
        Assert.Equal(0f, l.item<float>());
        Assert.True(l.requires_grad);
    }

    [Fact]
    public void Teacher_index_out_of_vocabulary_is_rejected_naming_teacherIndices()
    {
        var z = zeros(2, 5);
        var idx = tensor(new[] { 0, 1, 2, 5 }, [2, 2]);
        var e = Assert.Throws<ArgumentException>(() => new TopKDistillationLoss(new DistillationOptions(TopK: 2)).Compute(z, idx, zeros(2, 2)));
        Assert.Equal("teacherIndices", e.ParamName);
        Assert.Contains("[0, V = 5)", e.Message);
    }

    [Fact]
    public void Non_finite_teacher_logits_are_rejected_naming_teacherLogits()
    {
        var tl = tensor(new[] { 1f, float.NaN, 0f, 2f }, [2, 2]);
        var e = Assert.Throws<ArgumentException>(() => new TopKDistillationLoss(new DistillationOptions(TopK: 2)).Compute(zeros(2, 5), zeros([2, 2], ScalarType.Int64), tl));
        Assert.Equal("teacherLogits", e.ParamName);
    }

    [Fact]
    public void Mismatched_shapes_are_rejected()
    {
        var loss = new TopKDistillationLoss(new DistillationOptions(TopK: 2));
        Assert.Equal("teacherIndices", Assert.Throws<ArgumentException>(() => loss.Compute(zeros(3, 5), zeros([2, 2], ScalarType.Int64), zeros(2, 2))).ParamName);
        Assert.Equal("teacherLogits", Assert.Throws<ArgumentException>(() => loss.Compute(zeros(2, 5), zeros([2, 2], ScalarType.Int64), zeros(2, 3))).ParamName);
        Assert.Equal("teacherIndices", Assert.Throws<ArgumentException>(() => loss.Compute(zeros(2, 5), zeros([2, 6], ScalarType.Int64), zeros(2, 6))).ParamName);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void Temperature_must_be_positive(double t)
    {
        var e = Assert.Throws<ArgumentException>(() => new TopKDistillationLoss(new DistillationOptions(Temperature: t)));
        Assert.Equal("Temperature", e.ParamName);
    }
}

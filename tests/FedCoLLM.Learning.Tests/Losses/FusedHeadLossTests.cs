using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Models;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests.Losses;

/// <summary>
/// The fused, chunked LM head + loss against the unfused dense path (logits = linear(h, W), then
/// AnswerCrossEntropy.MeanOfRows / TopKDistillationLoss, both reference-checked elsewhere): the loss and the
/// gradients w.r.t. the hidden rows AND the head weight (and bias, LoRA input and LoRA B when present).
/// Tolerances: float64 rtol 1e-10 / atol 1e-12; float32 rtol 1e-5 / atol 1e-5 (the chunked sums run in
/// another order than one [N, V] pass).
/// </summary>
public class FusedHeadLossTests
{
    const int H = 6, V = 37, K = 5;

    sealed record Case(Tensor Hidden, Tensor Weight, Tensor? Bias, Tensor? U, Tensor? B, double Scale, Tensor Targets, Tensor Indices, Tensor TeacherLogits)
    {
        public Tensor[] Leaves => new[] { Hidden, Weight, Bias, U, B }.Where(t => t is not null).Select(t => t!).ToArray();
        public HeadOperands Operands => new(Hidden, Weight, Bias, U, B, Scale);

        public Tensor DenseLogits()
        {
            var z = nn.functional.linear(Hidden, Weight, Bias);
            return U is null ? z : z + Scale * U.mm(B!.t());
        }
    }

    static Case Make(int n, ScalarType dtype, bool lowRankAndBias = false, long seed = 5)
    {
        var g = new Generator((ulong)seed);
        Tensor Leaf(params long[] shape) => randn(shape, dtype, generator: g).requires_grad_(true);
        var hidden = Leaf(n, H);
        var weight = Leaf(V, H);
        Tensor? bias = lowRankAndBias ? Leaf(V) : null, u = lowRankAndBias ? Leaf(n, 3) : null, b = lowRankAndBias ? Leaf(V, 3) : null;
        var targets = randint(V, [n], generator: g);
        var (idx, tl) = TopKTeacher.Extract(randn([n, V], generator: g).mul_(2.0), K);
        return new Case(hidden, weight, bias, u, b, 1.75, targets, idx, tl);
    }

    static void AssertClose(Tensor expected, Tensor actual, ScalarType dtype, string what)
    {
        (double rtol, double atol) = dtype == ScalarType.Float64 ? (1e-10, 1e-12) : (1e-5, 1e-5);
        Assert.Equal(expected.shape, actual.shape);
        double diff = expected.numel() == 0 ? 0 : (expected - actual).abs().max().to(ScalarType.Float64).item<double>();
        Assert.True(actual.allclose(expected, rtol, atol), $"{what}: max |Δ| = {diff:G3}");
    }

    static void AssertMatchesDense(Case c, Func<Tensor> dense, Func<Tensor> fused, ScalarType dtype)
    {
        var leaves = c.Leaves;
        var denseLoss = dense();
        var denseGrads = autograd.grad([denseLoss], leaves, allow_unused: true);
        var fusedLoss = fused();
        var fusedGrads = autograd.grad([fusedLoss], leaves, allow_unused: true);
        Assert.Equal(dtype, fusedLoss.dtype);
        AssertClose(denseLoss, fusedLoss, dtype, "loss");
        string[] names = ["hidden", "weight", "bias", "lowRankInput", "lowRankWeight"];
        var present = names.Where((_, i) => new[] { c.Hidden, c.Weight, c.Bias, c.U, c.B }[i] is not null).ToArray();
        for (int i = 0; i < leaves.Length; i++)
        {
            // The dense path leaves an unused leaf without a gradient when N = 0; that is a zero gradient.
            var expected = denseGrads[i] is { IsInvalid: false } e ? e : zeros_like(leaves[i]);
            Assert.False(fusedGrads[i] is null || fusedGrads[i].IsInvalid, $"no fused gradient for {present[i]}");
            AssertClose(expected, fusedGrads[i], dtype, "d" + present[i]);
        }
    }

    /// <summary>Chunk budgets giving 1, 3 (divides neither 10 nor 7), 4, all or more than all rows per chunk.</summary>
    static FusedHeadOptions Chunked(long rows, ScalarType dtype, FusedHeadBackward backward, int buffers = 2) =>
        new(rows * V * (dtype == ScalarType.Float64 ? 8 : 4) * buffers, backward);

    public static TheoryData<ScalarType, int, long, FusedHeadBackward> CeCases()
    {
        var data = new TheoryData<ScalarType, int, long, FusedHeadBackward>();
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
            foreach (var (n, rows) in new[] { (10, 1L), (10, 3L), (7, 3L), (10, 10L), (10, 64L), (0, 3L) })
                foreach (var backward in new[] { FusedHeadBackward.InForward, FusedHeadBackward.Recompute })
                    data.Add(dtype, n, rows, backward);
        return data;
    }

    [Theory, MemberData(nameof(CeCases))]
    public void Cross_entropy_and_its_gradients_equal_the_dense_path(ScalarType dtype, int n, long rows, FusedHeadBackward backward)
    {
        var c = Make(n, dtype);
        var options = Chunked(rows, dtype, backward);
        Assert.Equal(Math.Max(1, Math.Min(rows, n)), options.ChunkRows(n, V, dtype, buffers: 2));
        AssertMatchesDense(c,
            () => AnswerCrossEntropy.MeanOfRows(c.DenseLogits(), c.Targets),
            () => FusedHeadLoss.CrossEntropy(c.Operands, c.Targets, options), dtype);
    }

    public static TheoryData<ScalarType, double, DistillationReduction, bool, long, FusedHeadBackward> KdCases()
    {
        var data = new TheoryData<ScalarType, double, DistillationReduction, bool, long, FusedHeadBackward>();
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            data.Add(dtype, 1.0, DistillationReduction.Mean, false, 3, FusedHeadBackward.InForward);
            data.Add(dtype, 2.0, DistillationReduction.Mean, true, 3, FusedHeadBackward.InForward);
            data.Add(dtype, 0.5, DistillationReduction.Sum, true, 1, FusedHeadBackward.Recompute);
            data.Add(dtype, 3.0, DistillationReduction.Sum, false, 4, FusedHeadBackward.InForward);
            data.Add(dtype, 2.0, DistillationReduction.Mean, false, 64, FusedHeadBackward.Recompute);
        }
        return data;
    }

    [Theory, MemberData(nameof(KdCases))]
    public void Top_k_distillation_and_its_gradients_equal_the_dense_path(ScalarType dtype, double t, DistillationReduction reduction, bool tSquared, long rows, FusedHeadBackward backward)
    {
        var c = Make(10, dtype);
        var kd = new DistillationOptions(t, K, reduction, tSquared);
        AssertMatchesDense(c,
            () => new TopKDistillationLoss(kd).Compute(c.DenseLogits(), c.Indices, c.TeacherLogits),
            () => FusedHeadLoss.Distillation(c.Operands, c.Indices, c.TeacherLogits, kd, Chunked(rows, dtype, backward)), dtype);
    }

    [Theory]
    [InlineData(ScalarType.Float64, 1.0, 3L, FusedHeadBackward.InForward)]
    [InlineData(ScalarType.Float64, 2.0, 3L, FusedHeadBackward.Recompute)]
    [InlineData(ScalarType.Float32, 2.0, 1L, FusedHeadBackward.InForward)]
    [InlineData(ScalarType.Float32, 0.7, 64L, FusedHeadBackward.Recompute)]
    public void Cross_entropy_plus_lambda_kd_with_bias_and_a_lora_branch_equals_the_dense_path(ScalarType dtype, double t, long rows, FusedHeadBackward backward)
    {
        var c = Make(10, dtype, lowRankAndBias: true);
        var kd = new DistillationOptions(t, K, DistillationReduction.Mean, ScaleByTemperatureSquared: true);
        AssertMatchesDense(c,
            () =>
            {
                var z = c.DenseLogits();
                return AnswerCrossEntropy.MeanOfRows(z, c.Targets) + 0.3 * new TopKDistillationLoss(kd).Compute(z, c.Indices, c.TeacherLogits);
            },
            () => FusedHeadLoss.CrossEntropyPlusDistillation(c.Operands, c.Targets, c.Indices, c.TeacherLogits, kd, 0.3, Chunked(rows, dtype, backward, buffers: t == 1.0 ? 2 : 3)),
            dtype);
    }

    [Fact]
    public void Without_autograd_the_loss_is_the_same_and_nothing_is_differentiable()
    {
        var c = Make(10, ScalarType.Float64);
        var kd = new DistillationOptions(2.0, K);
        var expected = FusedHeadLoss.CrossEntropyPlusDistillation(c.Operands, c.Targets, c.Indices, c.TeacherLogits, kd, 0.5).item<double>();
        using var _ = no_grad();
        var loss = FusedHeadLoss.CrossEntropyPlusDistillation(c.Operands, c.Targets, c.Indices, c.TeacherLogits, kd, 0.5);
        Assert.False(loss.requires_grad);
        Assert.Equal(expected, loss.item<double>(), 12);
    }

    [Fact]
    public void A_frozen_head_weight_gets_no_gradient_and_the_hidden_rows_still_do()
    {
        var c = Make(8, ScalarType.Float64);
        c.Weight.requires_grad_(false);
        var loss = FusedHeadLoss.CrossEntropy(c.Operands, c.Targets);
        loss.backward();
        Assert.True(c.Weight.grad is null || c.Weight.grad.IsInvalid);
        var dense = autograd.grad([AnswerCrossEntropy.MeanOfRows(c.DenseLogits(), c.Targets)], [c.Hidden])[0];
        AssertClose(dense, c.Hidden.grad!, ScalarType.Float64, "dhidden");
    }

    [Fact]
    public void Bad_operands_are_refused_naming_the_argument_and_the_fix()
    {
        var c = Make(4, ScalarType.Float32);
        var e = Assert.Throws<ArgumentException>(() => FusedHeadLoss.CrossEntropy(c.Operands, tensor(new long[] { 0, 1, 2, V })));
        Assert.Contains($"[0, V = {V})", e.Message);
        e = Assert.Throws<ArgumentException>(() => FusedHeadLoss.CrossEntropy(c.Operands, c.Targets.narrow(0, 0, 3)));
        Assert.Contains("N = 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => FusedHeadLoss.CrossEntropy(c.Operands with { Hidden = c.Hidden.unsqueeze(0) }, c.Targets));
        Assert.Contains("Select the answer rows", e.Message);
        e = Assert.Throws<ArgumentException>(() => FusedHeadLoss.CrossEntropy(c.Operands with { Weight = c.Weight.t() }, c.Targets));
        Assert.Contains("[V, H]", e.Message);
        e = Assert.Throws<ArgumentException>(() => FusedHeadLoss.Distillation(c.Operands, c.Indices.narrow(0, 0, 4).add(V), c.TeacherLogits.narrow(0, 0, 4), new DistillationOptions(TopK: K)));
        Assert.Contains("teacherIndices", e.Message);
    }

    [Fact]
    public void The_chunk_size_follows_the_byte_budget_and_the_vocabulary()
    {
        var defaults = FusedHeadOptions.Default;
        // 128 MiB / (2 buffers · 50 257 · 4 bytes) = 333 rows of float32; 222 with a third buffer.
        Assert.Equal(333, defaults.ChunkRows(2048, 50257, ScalarType.Float32, buffers: 2));
        Assert.Equal(222, defaults.ChunkRows(2048, 50257, ScalarType.Float32, buffers: 3));
        Assert.Equal(5, defaults.ChunkRows(5, 50257, ScalarType.Float32, buffers: 1));
        Assert.Equal(1, new FusedHeadOptions(ChunkBytes: 10).ChunkRows(5, 50257, ScalarType.Float32, buffers: 1));
        Assert.Throws<ArgumentException>(() => new FusedHeadOptions(ChunkBytes: 0).ChunkRows(5, 50257, ScalarType.Float32, 1));
    }
}

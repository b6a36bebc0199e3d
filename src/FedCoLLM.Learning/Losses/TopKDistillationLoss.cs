using static TorchSharp.torch;

namespace FedCoLLM.Learning.Losses;

/// <summary>
/// Sparse top-k forward KL from a teacher to a student (brief §1.4):
/// <code>
///   p_t(v|j)     = softmax(z_t[S_j] / T)                  over the teacher's k entries S_j only
///   log q_s(v|j) = log_softmax(z_s(j) / T)[v]             over the FULL vocabulary, differentiable
///   KL_j         = Σ_{v∈S_j} p_t(v|j) · (log p_t(v|j) − log q_s(v|j))
///   loss         = mean_j KL_j  (or Σ_j), × T² if asked
/// </code>
/// The teacher stays O(N·k); no dense [N,V] teacher is ever built (FATE builds one with Python loops, B13).
/// The student enters through its own logits, so the loss has a gradient (FATE's detaches it, B7) and
/// the teacher enters through its logits, not its token ids (B6).
/// <para>Because Σ_v p_t = 1, KL_j = Σ p_t log p_t − Σ p_t z_s[S_j]/T + logsumexp(z_s/T), and
/// ∂KL_j/∂z_s = (softmax(z_s/T) − scatter(p_t)) / T. The fused autograd node uses exactly this: the forward
/// keeps only logsumexp per row, the backward writes the gradient in one [N,V] buffer.</para>
/// </summary>
public sealed class TopKDistillationLoss
{
    public TopKDistillationLoss(DistillationOptions options)
    {
        options.Validate();
        Options = options;
    }

    public DistillationOptions Options { get; }

    /// <summary>
    /// studentLogits [N,V] (answer positions, contract order, differentiable); teacherIndices [N,k] int32/int64;
    /// teacherLogits [N,k]. Returns a scalar. N = 0 gives a zero that still joins the graph.
    /// </summary>
    public Tensor Compute(Tensor studentLogits, Tensor teacherIndices, Tensor teacherLogits)
    {
        Validate(studentLogits, teacherIndices, teacherLogits);
        long n = studentLogits.shape[0];
        if (n == 0) return studentLogits.sum().mul(0.0);

        double t = Options.Temperature;
        double scale = (Options.Reduction == DistillationReduction.Mean ? 1.0 / n : 1.0)
                     * (Options.ScaleByTemperatureSquared ? t * t : 1.0);

        using var scope = NewDisposeScope();
        var (index, teacherLogProbs) = PrepareTeacher(teacherIndices, teacherLogits, t, studentLogits.dtype, studentLogits.device);
        var loss = SparseKlFunction.apply(studentLogits, index, teacherLogProbs, t, scale);
        return scope.MoveToOuter(loss);
    }

    private static void Validate(Tensor student, Tensor indices, Tensor teacher)
    {
        if (student.dim() != 2)
            throw new ArgumentException($"studentLogits must be [N, V]; got [{Shape(student)}].", nameof(student) + "Logits");
        if (!student.is_floating_point())
            throw new ArgumentException($"studentLogits must be floating point; got {student.dtype}.", "studentLogits");
        ValidateTeacher(student.shape[0], student.shape[1], indices, teacher);
    }

    /// <summary>Checks a sparse teacher against a student of N rows over a vocabulary of V: shapes, dtypes, token ids
    /// in range, finite logits. Shared with <see cref="FusedHeadLoss"/>, whose student is hidden rows, not logits.</summary>
    internal static void ValidateTeacher(long n, long v, Tensor indices, Tensor teacher)
    {
        if (indices.dim() != 2 || indices.shape[0] != n)
            throw new ArgumentException($"teacherIndices must be [N, k] with N = {n} (the student's rows); got [{Shape(indices)}].", "teacherIndices");
        if (indices.dtype is not (ScalarType.Int32 or ScalarType.Int64))
            throw new ArgumentException($"teacherIndices must be int32 or int64; got {indices.dtype}.", "teacherIndices");
        long k = indices.shape[1];
        if (k < 1 || k > v)
            throw new ArgumentException($"teacherIndices has k = {k}; it must be in [1, V = {v}].", "teacherIndices");
        if (teacher.dim() != 2 || teacher.shape[0] != n || teacher.shape[1] != k)
            throw new ArgumentException($"teacherLogits must be [N, k] = [{n}, {k}] like teacherIndices; got [{Shape(teacher)}].", "teacherLogits");
        if (!teacher.is_floating_point())
            throw new ArgumentException($"teacherLogits must be floating point; got {teacher.dtype}.", "teacherLogits");
        if (n == 0) return;
        using (no_grad())
        {
            long min = indices.min().to(ScalarType.Int64).item<long>(), max = indices.max().to(ScalarType.Int64).item<long>();
            if (min < 0 || max >= v)
                throw new ArgumentException($"teacherIndices holds token ids in [{min}, {max}]; they must lie in [0, V = {v}).", "teacherIndices");
            if (!teacher.isfinite().all().item<bool>())
                throw new ArgumentException("teacherLogits holds NaN or ±Inf; top-k teacher logits must be finite.", "teacherLogits");
        }
    }

    /// <summary>The teacher's int64 indices and log p_t = log_softmax(z_t[S]/T) [N, k], in the student's dtype and
    /// device, outside autograd (the teacher is a constant).</summary>
    internal static (Tensor Index, Tensor LogProbs) PrepareTeacher(Tensor teacherIndices, Tensor teacherLogits, double t, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var index = teacherIndices.to(ScalarType.Int64, device);
        var scaled = teacherLogits.to(dtype, device);
        if (t != 1.0) scaled = scaled.div(t);
        return (scope.MoveToOuter(index), scope.MoveToOuter(scaled.log_softmax(1)));
    }

    private static string Shape(Tensor t) => string.Join(", ", t.shape);

    /// <summary>
    /// Fused forward/backward. Forward: logsumexp per row, in row chunks so no [N,V] temporary is kept;
    /// saves the student logits (already alive in the model's graph), lse [N], indices and p_t [N,k].
    /// Backward: one [N,V] buffer = (exp(z/T − lse) − scatter(p_t)) · g · scale / T.
    /// Against the composed autograd version (z/T, logsumexp, gather) this skips the dense gather-backward
    /// zeros, the gradient accumulation add and the division's backward: see `fedcollm bench kd`.
    /// </summary>
    private sealed class SparseKlFunction : autograd.SingleTensorFunction<SparseKlFunction>
    {
        private const long RowChunk = 64;

        public override string Name => nameof(TopKDistillationLoss);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var student = (Tensor)vars[0];
            var index = (Tensor)vars[1];
            var teacherLogProbs = (Tensor)vars[2];
            double t = (double)vars[3], scale = (double)vars[4];
            long n = student.shape[0];

            Tensor lse, loss, teacherProbs;
            using (var scope = NewDisposeScope())
            {
                lse = empty(n, student.dtype, student.device);
                for (long r = 0; r < n; r += RowChunk)
                {
                    long len = Math.Min(RowChunk, n - r);
                    var rows = student.narrow(0, r, len);
                    if (t != 1.0) rows = rows.div(t);
                    lse.narrow(0, r, len).copy_(rows.logsumexp(1));
                }
                teacherProbs = teacherLogProbs.exp();
                // KL_j = Σ p (log p − (z[S]/T − lse))
                var logQ = student.gather(1, index);
                if (t != 1.0) logQ = logQ.div_(t);
                logQ.sub_(lse.unsqueeze(1));
                loss = teacherProbs.mul(teacherLogProbs.sub(logQ)).sum().mul_(scale);
                scope.MoveToOuter(lse, loss, teacherProbs);
            }
            // Saved tensors must outlive forward: the context commits them after it returns.
            ctx.save_for_backward([student, index, teacherProbs, lse]);
            ctx.save_data("t", t);
            ctx.save_data("scale", scale);
            return loss;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var saved = ctx.get_saved_variables();
            var (student, index, teacherProbs, lse) = (saved[0], saved[1], saved[2], saved[3]);
            double t = (double)ctx.get_data("t"), scale = (double)ctx.get_data("scale");

            // In place on one fresh [N,V] buffer: softmax() would need a second one when T ≠ 1 (measured: 787 vs
            // 392 MiB peak at N = 2048, V = 50257, same time).
            var grad = t != 1.0 ? student.div(t) : student.clone();
            grad.sub_(lse.unsqueeze(1)).exp_();                 // softmax(z/T)
            grad.scatter_add_(1, index, teacherProbs.neg());    // − p_t on the support
            grad.mul_(gradOutput.to(grad.dtype)).mul_(scale / t);
            foreach (var s in saved) s.Dispose();
            return [grad, null!, null!, null!, null!];
        }
    }

    /// <summary>The same loss through ordinary autograd ops (z/T → logsumexp, gather). Kept to compare against
    /// the fused node in tests and in `fedcollm bench kd`.</summary>
    public Tensor ComputeComposed(Tensor studentLogits, Tensor teacherIndices, Tensor teacherLogits)
    {
        Validate(studentLogits, teacherIndices, teacherLogits);
        long n = studentLogits.shape[0];
        if (n == 0) return studentLogits.sum().mul(0.0);
        double t = Options.Temperature;
        using var scope = NewDisposeScope();
        var index = teacherIndices.to(ScalarType.Int64, studentLogits.device);
        var teacher = teacherLogits.to(studentLogits.dtype, studentLogits.device);
        var z = t != 1.0 ? studentLogits.div(t) : studentLogits;
        var logQ = z.gather(1, index).sub(z.logsumexp(1, keepdim: true));
        var logP = (t != 1.0 ? teacher.div(t) : teacher).log_softmax(1);
        var kl = logP.exp().mul(logP.sub(logQ)).sum(1);
        var loss = Options.Reduction == DistillationReduction.Mean ? kl.mean() : kl.sum();
        if (Options.ScaleByTemperatureSquared) loss = loss.mul(t * t);
        return scope.MoveToOuter(loss);
    }
}

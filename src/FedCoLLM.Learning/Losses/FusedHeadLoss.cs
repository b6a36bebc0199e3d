using FedCoLLM.Learning.Models;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Losses;

/// <summary>When the fused LM-head loss computes its gradients.</summary>
public enum FusedHeadBackward
{
    /// <summary>
    /// In the forward's chunk loop (as Liger-kernel does): the loss is a scalar, so ∂loss/∂logits of a chunk is known
    /// as soon as its log-sum-exp is, and the logits are computed once. Backward only scales the kept gradients by the
    /// incoming one. Holds dH [N, H] (and dW [V, H], d(LoRA) when those are trainable) from forward to backward.
    /// Forward without autograd (evaluation, no_grad) computes no gradients.
    /// </summary>
    InForward,
    /// <summary>
    /// Forward computes the loss only; backward recomputes each chunk's logits and softmax. One more [N, H]·[H, V]
    /// matmul and softmax per step than <see cref="InForward"/> (measured in `fedcollm bench kd`); holds nothing but
    /// the inputs between forward and backward.
    /// </summary>
    Recompute,
}

/// <summary>
/// Chunking of the fused LM-head loss. <see cref="ChunkBytes"/> bounds the [chunk, V] buffers the loop holds at once:
/// the logits, their log-softmax (which becomes the gradient in place), and a second log-softmax when CE and KD are
/// fused at T ≠ 1; the rows per chunk follow from it, V and the element size (<see cref="ChunkRows"/>). The default,
/// 128 MiB (333 rows at V = 50 257 in float32, two buffers; a third of the 393 MiB of [2048, V] logits), was measured
/// in `fedcollm bench kd --chunk-mib` (docs/benchmarks.md): at N = 2048, H = 768 it ran 1.9× faster than 32 MiB
/// (83-row chunks make h·Wᵀ a thin matmul that libtorch runs far below its peak, and dW gets 4× more passes).
/// </summary>
public sealed record FusedHeadOptions(long ChunkBytes = FusedHeadOptions.DefaultChunkBytes, FusedHeadBackward Backward = FusedHeadBackward.InForward)
{
    /// <summary>When set, the chunk loop adds the time of each of its parts here (`fedcollm bench kd`'s breakdown).</summary>
    public FusedHeadProfile? Profile { get; init; }

    public const long DefaultChunkBytes = 128L << 20;

    public static FusedHeadOptions Default { get; } = new();

    /// <summary>Rows per chunk: ⌊ChunkBytes / (buffers · V · element size)⌋, at least 1 and at most N.</summary>
    public long ChunkRows(long n, long vocab, ScalarType dtype, int buffers)
    {
        if (ChunkBytes < 1) throw new ArgumentException($"ChunkBytes = {ChunkBytes}; it must be at least 1.", nameof(ChunkBytes));
        long perRow = Math.Max(1, buffers * vocab * ElementSize(dtype));
        return Math.Max(1, Math.Min(Math.Max(n, 1), ChunkBytes / perRow));
    }

    static long ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => 8,
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        _ => 4,
    };
}

/// <summary>Wall time per part of the fused loop, summed over chunks and calls (CPU ops are synchronous, so a
/// stopwatch between them measures them).</summary>
public sealed class FusedHeadProfile
{
    readonly long[] ticks = new long[4];

    /// <summary>h·Wᵀ (+ LoRA, bias) per chunk, forward and backward-recompute.</summary>
    public TimeSpan LogitMatmuls => Span(0);
    /// <summary>The in-place softmaxes (max, exp, sum, log, divide) and turning them into ∂loss/∂z.</summary>
    public TimeSpan Softmax => Span(1);
    /// <summary>Gathers of target/teacher logits, the per-row loss terms and the scatters of −p and −1.</summary>
    public TimeSpan GathersAndScatters => Span(2);
    /// <summary>dH = ∂z·W, dW += ∂zᵀ·H and the bias/LoRA gradients.</summary>
    public TimeSpan GradientMatmuls => Span(3);
    public long Chunks { get; private set; }

    TimeSpan Span(int part) => TimeSpan.FromSeconds((double)ticks[part] / System.Diagnostics.Stopwatch.Frequency);

    internal void Add(int part, ref long start)
    {
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        ticks[part] += now - start;
        start = now;
    }

    internal void CountChunk() => Chunks++;
}

/// <summary>
/// The LM head fused with its loss, chunked over rows so that the [N, V] logits never exist (in the manner of
/// Liger-kernel's fused linear cross-entropy and Apple's cut-cross-entropy, written here in TorchSharp):
/// <code>
///   z_i   = h_i·Wᵀ (+ s·u_i·Bᵀ + b)                           one chunk of rows at a time, freed after use
///   CE    = (1/N) Σ_i (logsumexp(z_i) − z_i[y_i])             as AnswerCrossEntropy.MeanOfRows
///   KD    = scale Σ_i Σ_{v∈S_i} p_i(v)·(log p_i(v) − z_i[v]/T + logsumexp(z_i/T))   as TopKDistillationLoss
///   ∂/∂z_i = (1/N)(softmax(z_i) − onehot(y_i)) + (scale/T)(softmax(z_i/T) − scatter(p_i))
///   dH = ∂z·W,  dW = ∂zᵀ·H,  db = Σ ∂z,  du = s·∂z·B,  dB = s·∂zᵀ·u     accumulated chunk by chunk
/// </code>
/// Peak extra memory is O(chunk·V + N·k + N·H) (plus dW [V, H] only when the head weight is trainable), against
/// O(N·V) for logits, their log-softmax and their gradient on the unfused path. Same math, summed in another
/// order: results equal the unfused path to rounding (tests: 1e-10 in float64, 1e-5 in float32).
/// </summary>
public static class FusedHeadLoss
{
    /// <summary>Mean next-token CE of the head's rows against targets [N] (int64/int32 token ids).</summary>
    public static Tensor CrossEntropy(HeadOperands head, Tensor targets, FusedHeadOptions? options = null) =>
        Compute(head, targets, ceWeight: 1.0, null, null, null, 0.0, options);

    /// <summary>Sparse top-k KD (<see cref="TopKDistillationLoss"/>'s math and options) of the head's rows.</summary>
    public static Tensor Distillation(HeadOperands head, Tensor teacherIndices, Tensor teacherLogits, DistillationOptions kd, FusedHeadOptions? options = null) =>
        Compute(head, null, 0.0, teacherIndices, teacherLogits, kd, 1.0, options);

    /// <summary>CE + λ·KD in one pass over the chunks: each chunk's logits serve both terms (FedCoLLM's distillation loss).</summary>
    public static Tensor CrossEntropyPlusDistillation(HeadOperands head, Tensor targets, Tensor teacherIndices, Tensor teacherLogits,
        DistillationOptions kd, double lambda, FusedHeadOptions? options = null)
    {
        if (!double.IsFinite(lambda) || lambda < 0)
            throw new ArgumentException($"lambda = {lambda}; it must be a finite number ≥ 0.", nameof(lambda));
        return Compute(head, targets, 1.0, teacherIndices, teacherLogits, kd, lambda, options);
    }

    static Tensor Compute(HeadOperands head, Tensor? targets, double ceWeight, Tensor? teacherIndices, Tensor? teacherLogits,
        DistillationOptions? kd, double kdWeight, FusedHeadOptions? options)
    {
        options ??= FusedHeadOptions.Default;
        Validate(head);
        long n = head.Rows, v = head.VocabSize;
        var dtype = head.Hidden.dtype;
        var device = head.Hidden.device;
        using var scope = NewDisposeScope();
        Tensor? y = null, index = null, teacherLogProbs = null;
        if (targets is not null) y = ValidTargets(targets, n, v).to(ScalarType.Int64, device);
        double t = 1.0, kdScale = 0.0;
        if (kd is not null)
        {
            kd.Validate();
            TopKDistillationLoss.ValidateTeacher(n, v, teacherIndices!, teacherLogits!);
            t = kd.Temperature;
            (index, teacherLogProbs) = TopKDistillationLoss.PrepareTeacher(teacherIndices!, teacherLogits!, t, dtype, device);
            kdScale = n == 0 ? 0.0 : kdWeight
                * (kd.Reduction == DistillationReduction.Mean ? 1.0 / n : 1.0)
                * (kd.ScaleByTemperatureSquared ? t * t : 1.0);
        }
        bool grad = is_grad_enabled();
        bool Needs(Tensor? x) => grad && x is not null && x.requires_grad;
        var plan = new Plan(
            CeScale: y is null || n == 0 ? 0.0 : ceWeight / n,
            HasCe: y is not null,
            KdScale: kdScale,
            HasKd: index is not null,
            Temperature: t,
            LowRankScale: head.LowRankScale,
            Backward: options.Backward,
            Profile: options.Profile,
            GradHidden: Needs(head.Hidden), GradWeight: Needs(head.Weight), GradBias: Needs(head.Bias),
            GradLowRankInput: Needs(head.LowRankInput), GradLowRankWeight: Needs(head.LowRankWeight),
            ChunkRows: 0);
        plan = plan with { ChunkRows = options.ChunkRows(n, v, dtype, plan.Buffers) };
        var loss = ChunkedHeadFunction.apply(head.Hidden, head.Weight, head.Bias, head.LowRankInput, head.LowRankWeight,
            y, index, teacherLogProbs, plan);
        return scope.MoveToOuter(loss);
    }

    static void Validate(HeadOperands head)
    {
        var (h, w) = (head.Hidden, head.Weight);
        if (h.dim() != 2 || !h.is_floating_point())
            throw new ArgumentException($"head.Hidden must be floating-point rows [N, H]; got {h.dtype} [{Shape(h)}]. Select the answer rows of the [B, T, H] hidden states first.", "head");
        if (w.dim() != 2 || w.shape[1] != h.shape[1] || w.dtype != h.dtype)
            throw new ArgumentException($"head.Weight must be [V, H] = [V, {h.shape[1]}] in {h.dtype}; got {w.dtype} [{Shape(w)}].", "head");
        if (head.Bias is { } b && (b.dim() != 1 || b.shape[0] != w.shape[0]))
            throw new ArgumentException($"head.Bias must be [V] = [{w.shape[0]}]; got [{Shape(b)}].", "head");
        if ((head.LowRankInput is null) != (head.LowRankWeight is null))
            throw new ArgumentException("head.LowRankInput and head.LowRankWeight come together (a LoRA branch) or not at all.", "head");
        if (head.LowRankInput is { } u && head.LowRankWeight is { } bw
            && (u.dim() != 2 || bw.dim() != 2 || u.shape[0] != h.shape[0] || bw.shape[0] != w.shape[0] || u.shape[1] != bw.shape[1]))
            throw new ArgumentException($"head.LowRankInput must be [N, r] and head.LowRankWeight [V, r]; got [{Shape(u)}] and [{Shape(bw)}].", "head");
    }

    static Tensor ValidTargets(Tensor targets, long n, long v)
    {
        if (targets.dim() != 1 || targets.shape[0] != n)
            throw new ArgumentException($"targets must be [N] with N = {n} (the head's rows); got [{Shape(targets)}].", nameof(targets));
        if (targets.dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new ArgumentException($"targets must be int64 or int32 token ids; got {targets.dtype}.", nameof(targets));
        if (n > 0)
        {
            long min = targets.min().to(ScalarType.Int64).item<long>(), max = targets.max().to(ScalarType.Int64).item<long>();
            if (min < 0 || max >= v)
                throw new ArgumentException($"targets hold token ids in [{min}, {max}]; they must lie in [0, V = {v}). Is the tokenizer the model's?", nameof(targets));
        }
        return targets;
    }

    static string Shape(Tensor t) => string.Join(", ", t.shape);

    /// <summary>What the autograd node needs besides tensors: the scales of each term and which inputs want gradients.</summary>
    sealed record Plan(
        double CeScale, bool HasCe, double KdScale, bool HasKd, double Temperature, double LowRankScale,
        FusedHeadBackward Backward,
        FusedHeadProfile? Profile,
        bool GradHidden, bool GradWeight, bool GradBias, bool GradLowRankInput, bool GradLowRankWeight,
        long ChunkRows)
    {
        /// <summary>softmax(z) and softmax(z/T) both needed at T ≠ 1: a third [chunk, V] buffer.</summary>
        public bool TwoSoftmaxes => HasCe && HasKd && Temperature != 1.0;
        /// <summary>The logits and their (log-)softmax, plus the second (log-)softmax when there are two.</summary>
        public int Buffers => TwoSoftmaxes ? 3 : 2;
        public bool AnyGrad => GradHidden || GradWeight || GradBias || GradLowRankInput || GradLowRankWeight;
    }

    /// <summary>The gradients of the five head operands (null where not wanted), for a unit upstream gradient.</summary>
    sealed class Gradients(Tensor? hidden, Tensor? weight, Tensor? bias, Tensor? lowRankInput, Tensor? lowRankWeight)
    {
        public readonly Tensor? Hidden = hidden, Weight = weight, Bias = bias, LowRankInput = lowRankInput, LowRankWeight = lowRankWeight;
        public Tensor?[] All => [Hidden, Weight, Bias, LowRankInput, LowRankWeight];
    }

    /// <summary>
    /// The autograd node. Inputs: hidden [N,H], weight [V,H], bias [V]?, lowRankInput [N,r]?, lowRankWeight [V,r]?,
    /// targets [N]?, teacher indices [N,k]?, teacher log-probabilities [N,k]?, plan.
    /// </summary>
    sealed class ChunkedHeadFunction : autograd.SingleTensorFunction<ChunkedHeadFunction>
    {
        public override string Name => nameof(FusedHeadLoss);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var op = Operands.From(vars);
            var plan = (Plan)vars[8];
            bool inForward = plan.AnyGrad && plan.Backward == FusedHeadBackward.InForward;
            var (loss, grads) = Sweep(op, plan, computeLoss: true, computeGradients: inForward);
            if (inForward)
                ctx.save_for_backward([.. grads!.All.Select(g => g!)]);
            else if (plan.AnyGrad)
                ctx.save_for_backward([op.Hidden, op.Weight, op.Bias!, op.LowRankInput!, op.LowRankWeight!, op.Targets!, op.Index!, op.TeacherLogProbs!]);
            ctx.save_data("plan", plan);
            return loss!;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var plan = (Plan)ctx.get_data("plan");
            var saved = ctx.get_saved_variables();
            Tensor?[] grads;
            if (plan.Backward == FusedHeadBackward.InForward)
                grads = [.. saved];
            else
            {
                var op = new Operands(saved[0], saved[1], saved[2], saved[3], saved[4], saved[5], saved[6], saved[7]);
                grads = Sweep(op, plan, computeLoss: false, computeGradients: true).Gradients!.All;
            }
            var result = new List<Tensor>();
            foreach (var g in grads)
                result.Add(g is null ? null! : g.mul(gradOutput.to(g.dtype)));
            foreach (var s in saved) s?.Dispose();
            foreach (var g in grads) g?.Dispose();
            // No gradients for targets, indices, teacher log-probabilities and the plan.
            result.AddRange([null!, null!, null!, null!]);
            return result;
        }
    }

    sealed record Operands(Tensor Hidden, Tensor Weight, Tensor? Bias, Tensor? LowRankInput, Tensor? LowRankWeight,
        Tensor? Targets, Tensor? Index, Tensor? TeacherLogProbs)
    {
        public static Operands From(object[] v) => new((Tensor)v[0], (Tensor)v[1], v[2] as Tensor, v[3] as Tensor, v[4] as Tensor,
            v[5] as Tensor, v[6] as Tensor, v[7] as Tensor);
    }

    /// <summary>
    /// One pass over the row chunks. Per chunk: the logits z; with <paramref name="computeLoss"/> the log-softmaxes
    /// (libtorch's one-kernel log_softmax; log-probabilities are gathered from them, never from a softmax, so an
    /// unlikely teacher token cannot underflow to log 0) and the per-row loss terms; with
    /// <paramref name="computeGradients"/> the softmaxes (exp of those log-softmaxes in place, or softmax when
    /// backward recomputes), turned into ∂loss/∂z in place, and the operands' gradients accumulated.
    /// </summary>
    static (Tensor? Loss, Gradients? Gradients) Sweep(Operands op, Plan plan, bool computeLoss, bool computeGradients)
    {
        long n = op.Hidden.shape[0], v = op.Weight.shape[0];
        var dtype = op.Hidden.dtype;
        var device = op.Hidden.device;
        double t = plan.Temperature;
        // softmax(z) is needed for CE, and serves KD too at T = 1; softmax(z/T) only for KD at T ≠ 1.
        bool plain = plan.HasCe || t == 1.0, tempered = plan.HasKd && t != 1.0;

        Tensor? loss = null;
        Gradients? grads = null;
        using (var outer = NewDisposeScope())
        {
            Tensor? ceRows = computeLoss && plan.HasCe ? empty(n, dtype, device) : null;
            Tensor? klRows = computeLoss && plan.HasKd ? empty(n, dtype, device) : null;
            Tensor? teacherProbs = plan.HasKd ? op.TeacherLogProbs!.exp() : null;
            if (computeGradients)
                grads = new Gradients(
                    plan.GradHidden ? empty(n, op.Hidden.shape[1], dtype, device) : null,
                    plan.GradWeight ? zeros(op.Weight.shape, dtype, device) : null,
                    plan.GradBias ? zeros(v, dtype, device) : null,
                    plan.GradLowRankInput ? empty(op.LowRankInput!.shape, dtype, device) : null,
                    plan.GradLowRankWeight ? zeros(op.LowRankWeight!.shape, dtype, device) : null);
            var weightT = op.Weight.t();
            var lowRankWeightT = op.LowRankWeight?.t();
            var profile = plan.Profile;

            for (long r = 0; r < n; r += plan.ChunkRows)
            {
                using var chunkScope = NewDisposeScope();
                long clock = System.Diagnostics.Stopwatch.GetTimestamp();
                profile?.CountChunk();
                long len = Math.Min(plan.ChunkRows, n - r);
                var h = op.Hidden.narrow(0, r, len);
                var z = h.mm(weightT);
                // The scale goes on u [len, r] (addmm_'s alpha is single precision; this stays exact in float64).
                var scaledU = op.LowRankInput?.narrow(0, r, len).mul(plan.LowRankScale);
                if (scaledU is not null) z.addmm_(scaledU, lowRankWeightT!);
                if (op.Bias is not null) z.add_(op.Bias);
                profile?.Add(0, ref clock);

                // p1 = (log-)softmax(z), pT = (log-)softmax(z/T) (the same tensor at T = 1). z/T is taken in place
                // after p1 is made, so at most three [len, V] buffers exist (two at T = 1) and z is freed at once.
                Tensor? p1 = null, pT = null;
                if (computeLoss)
                {
                    if (plain) p1 = z.log_softmax(1);
                    if (tempered) pT = z.div_(t).log_softmax(1);
                }
                else
                {
                    if (plain) p1 = z.softmax(1);
                    if (tempered) pT = z.div_(t).softmax(1);
                }
                pT ??= p1;
                z.Dispose();
                profile?.Add(1, ref clock);

                var index = plan.HasKd ? op.Index!.narrow(0, r, len) : null;
                var targets = plan.HasCe ? op.Targets!.narrow(0, r, len).unsqueeze(1) : null;
                if (computeLoss)
                {
                    if (plan.HasCe) ceRows!.narrow(0, r, len).copy_(p1!.gather(1, targets!).squeeze(1).neg());
                    if (plan.HasKd)
                    {
                        // KL_i = Σ_S p (log p − log q_T)
                        var logP = op.TeacherLogProbs!.narrow(0, r, len);
                        klRows!.narrow(0, r, len).copy_(teacherProbs!.narrow(0, r, len).mul(logP.sub(pT!.gather(1, index!))).sum(1));
                    }
                    profile?.Add(2, ref clock);
                    if (!computeGradients) continue;
                    p1?.exp_();
                    if (!ReferenceEquals(pT, p1)) pT!.exp_();
                }

                // ∂loss/∂z in place: ceScale·(softmax(z) − onehot(y)) + (kdScale/T)·(softmax(z/T) − scatter(p)).
                double kdOverT = plan.KdScale / t;
                Tensor dz;
                if (!plan.HasCe) dz = pT!.mul_(kdOverT);
                else if (!plan.HasKd) dz = p1!.mul_(plan.CeScale);
                else if (ReferenceEquals(pT, p1)) dz = p1!.mul_(plan.CeScale + kdOverT);
                else dz = p1!.mul_(plan.CeScale).add_(pT!, alpha: kdOverT);
                if (!ReferenceEquals(dz, pT)) pT?.Dispose();
                profile?.Add(1, ref clock);
                if (plan.HasCe)
                    dz.scatter_add_(1, targets!, full([len, 1], -plan.CeScale, dtype, device));
                if (plan.HasKd)
                    dz.scatter_add_(1, index!, teacherProbs!.narrow(0, r, len).mul(-kdOverT));
                profile?.Add(2, ref clock);

                if (grads!.Hidden is { } dH) dH.narrow(0, r, len).copy_(dz.mm(op.Weight));
                if (grads.Weight is { } dW) dW.addmm_(dz.t(), h);
                if (grads.Bias is { } db) db.add_(dz.sum(0L)); // 0L: a plain 0 would bind to the ScalarType overload
                if (grads.LowRankInput is { } du) du.narrow(0, r, len).copy_(dz.mm(op.LowRankWeight!).mul_(plan.LowRankScale));
                if (grads.LowRankWeight is { } dB) dB.addmm_(dz.t(), scaledU!);
                profile?.Add(3, ref clock);
            }

            if (computeLoss)
            {
                loss = zeros(Array.Empty<long>(), dtype, device);
                if (plan.HasCe) loss.add_(ceRows!.sum().mul_(plan.CeScale));
                if (plan.HasKd) loss.add_(klRows!.sum().mul_(plan.KdScale));
                outer.MoveToOuter(loss);
            }
            if (grads is not null) foreach (var g in grads.All) if (g is not null) outer.MoveToOuter(g);
        }
        return (loss, grads);
    }
}

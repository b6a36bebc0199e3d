using System.Diagnostics;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Benchmarking;

/// <summary>
/// Where one distillation optimizer step's time goes (medians, seconds): building the batch, the transformer body's
/// forward (hidden states), the loss (the LM head on the answer rows fused with CE + λ·top-k KD; its gradient is
/// computed inside the loss's forward), the backward pass, gradient clipping + AdamW. LmHeadForward/LmHeadBackward
/// time a dense head over every position on the same shapes, for comparison with what the fused loss avoids. The step is <see cref="Distillation.Train"/>'s micro-batch, replayed piece by
/// piece with a stopwatch on a second copy of the model: the forward is split by timing the LM head's matmul
/// (and, for the backward, its input gradient) alone on the same shapes, since the model's forward is one call.
/// The production phase's own step time (RoundBenchmarkResult.LlmDistillationStepSecondsMedian) checks that the
/// replay is representative.
/// </summary>
public sealed record StepBreakdown(int BatchRows, int BatchLength, int AnswerPositions, double Batch, double Forward, double LmHeadForward,
    double Loss, double Backward, double LmHeadBackward, double Optimizer)
{
    public double Total => Batch + Forward + Loss + Backward + Optimizer;

    public static StepBreakdown Measure(string modelDir, FederationSetup setup, ModelKind student, byte[] adapterBytes, byte[] teacherLogits,
        IReadOnlyList<TokenizedExample> examples, string dataset, int repeats)
    {
        var compute = setup.Compute;
        compute.Apply(compute.Seed);
        using var model = PretrainedModels.Load(modelDir, compute);
        var adapter = LoraAdapter.Apply(model, setup.LoraOf(student), seed: 0);
        adapter.Load(AdapterWeights.FromBytes(adapterBytes, "profile adapter"), "profile adapter");
        var teacher = TeacherLogitsFile.FromBytes(teacherLogits).AlignedWith(examples.Select(e => e.AnswerIds.Length).ToList(), dataset);
        var settings = setup.DistillationOf(student);
        var trainable = adapter.TrainableParameters();
        var o = settings.Optimizer;
        using var optimizer = optim.AdamW(trainable, o.LearningRate, o.Beta1, o.Beta2, o.Epsilon, o.WeightDecay);
        var builder = new BatchBuilder(PadId: 0, setup.MaxLength);
        var indices = Enumerable.Range(0, Math.Min(settings.BatchSize, examples.Count)).ToArray();
        var wte = model.named_parameters().First(p => p.name == "transformer.wte.weight").parameter;
        model.train();

        var times = new List<double[]>();
        int rows = 0, length = 0, answers = 0;
        for (int r = 0; r < repeats + 1; r++) // the first is a warm-up
        {
            var t = new double[7];
            var clock = Stopwatch.StartNew();
            double Lap() { double s = clock.Elapsed.TotalSeconds; clock.Restart(); return s; }
            optimizer.zero_grad();
            using (var scope = NewDisposeScope())
            {
                var batch = builder.Build(examples, indices).To(compute.TorchDevice);
                t[0] = Lap();
                var hidden = model.HiddenStates(batch.InputIds, batch.AttentionMask);
                t[1] = Lap();
                // Distillation.Train's micro-batch loss, the same calls in the same order: the LM head runs on the
                // answer rows only, fused with CE + λ·KD.
                var pass = new ForwardPass(batch, hidden, model.Head);
                var (teacherIndices, teacherValues) = TopKTeacher.Assemble(batch.ExampleIndices.Select(i => teacher[i]).ToList(), batch);
                var studentRows = pass.AnswerRows();
                var loss = setup.Distillation.Lambda == 0
                    ? SupervisedFineTuning.AnswerLoss(pass)
                    : FusedHeadLoss.CrossEntropyPlusDistillation(pass.AnswerHead(), pass.Targets(),
                        teacherIndices.to(hidden.device), teacherValues.to(hidden.device), setup.Distillation.Kd, setup.Distillation.Lambda);
                loss.item<float>();
                t[2] = Lap();
                loss.backward();
                t[3] = Lap();
                (rows, length, answers) = ((int)batch.InputIds.shape[0], (int)batch.InputIds.shape[1], (int)studentRows.shape[0]);
            }
            if (o.MaxGradNorm > 0) nn.utils.clip_grad_norm_(trainable, o.MaxGradNorm);
            optimizer.step();
            t[4] = Lap();
            // The LM head alone on the same shapes: logits = h·wteᵀ, and its share of the backward (dh only; wte is frozen).
            using (var scope = NewDisposeScope())
            {
                var h = randn(rows, length, wte.shape[1]).requires_grad_();
                var gradient = randn(rows, length, wte.shape[0]);
                Lap();
                var headLogits = nn.functional.linear(h, wte);
                t[5] = Lap();
                using (var g = (headLogits * gradient).sum()) g.backward();
                t[6] = Lap();
            }
            if (r > 0) times.Add(t);
        }
        optimizer.zero_grad();
        model.eval();
        double M(int i) { var s = times.Select(x => x[i]).Order().ToArray(); return s[s.Length / 2]; }
        return new StepBreakdown(rows, length, answers, M(0), M(1), M(5), M(2), M(3), M(6), M(4));
    }
}

using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Training;

/// <summary>
/// The one optimisation loop every phase shares (client SFT, SLM and LLM distillation): AdamW over the
/// trainable (LoRA) parameters, a learning-rate schedule, gradient accumulation and clipping.
/// What differs between phases is only the loss of a micro-batch, computed from the batch's hidden states
/// (<see cref="ForwardPass"/>): the loss decides where the LM head is applied.
/// </summary>
public static class TrainingLoop
{
    public static TrainingReport Run(
        string phase,
        CausalLanguageModel model,
        IReadOnlyList<TokenizedExample> examples,
        TrainingSettings settings,
        ComputeOptions compute,
        Func<ForwardPass, Tensor> microBatchLoss,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellation = default,
        TrainingCheckpoints? checkpoints = null)
    {
        settings.Validate();
        if (examples.Count == 0) throw new ArgumentException($"{phase}: the training set is empty.", nameof(examples));
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        if (trainable.Count == 0)
            throw new InvalidOperationException($"{phase}: the model has no trainable parameters; apply a LoRA config first.");

        compute.Apply(settings.Seed);
        var device = compute.TorchDevice;
        var builder = new BatchBuilder(PadId: 0, settings.MaxLength);
        var lengths = builder.FittedLengths(examples);
        int microPerEpoch = BatchPlan.LengthBucketed(lengths, settings.BatchSize, EpochSeed(settings.Seed, 0)).Count;
        int stepsPerEpoch = (microPerEpoch + settings.GradientAccumulationSteps - 1) / settings.GradientAccumulationSteps;
        int totalSteps = Math.Min(stepsPerEpoch * settings.Epochs, settings.MaxSteps ?? int.MaxValue);
        int warmup = LearningRateSchedule.WarmupSteps(settings.Optimizer, totalSteps);

        var o = settings.Optimizer;
        using var optimizer = optim.AdamW(trainable, o.LearningRate, o.Beta1, o.Beta2, o.Epsilon, o.WeightDecay);
        var losses = new List<double>(totalSteps);
        int step = 0;
        var before = TimeSpan.Zero; // training time spent before a resume
        if (checkpoints?.HasCheckpoint == true) (step, losses, before) = checkpoints.Restore(totalSteps, optimizer);
        int resumedAt = step;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        model.train();
        try
        {
            for (int epoch = 0; epoch < settings.Epochs && step < totalSteps; epoch++)
            {
                var plan = BatchPlan.LengthBucketed(lengths, settings.BatchSize, EpochSeed(settings.Seed, epoch));
                for (int start = 0; start < plan.Count && step < totalSteps; start += settings.GradientAccumulationSteps)
                {
                    if (epoch * stepsPerEpoch + start / settings.GradientAccumulationSteps < resumedAt) continue;
                    cancellation.ThrowIfCancellationRequested();
                    // Dropout's randomness depends on (seed, step) only, so a resumed run replays it exactly.
                    manual_seed(StepSeed(settings.Seed, step));
                    double lr = o.LearningRate * LearningRateSchedule.Factor(o.Schedule, step, totalSteps, warmup);
                    foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                    optimizer.zero_grad();

                    int micro = Math.Min(settings.GradientAccumulationSteps, plan.Count - start);
                    double stepLoss = 0;
                    for (int m = 0; m < micro; m++)
                    {
                        using var scope = NewDisposeScope();
                        using var batch = builder.Build(examples, plan[start + m]).To(device);
                        using var hidden = model.HiddenStates(batch.InputIds, batch.AttentionMask);
                        var loss = microBatchLoss(new ForwardPass(batch, hidden, model.Head));
                        double value = loss.item<float>();
                        if (!double.IsFinite(value))
                            throw new ArithmeticException($"{phase}: loss became {value} at step {step} (epoch {epoch}); lower the learning rate.");
                        (micro == 1 ? loss : loss / micro).backward();
                        stepLoss += value / micro;
                    }
                    if (o.MaxGradNorm > 0) nn.utils.clip_grad_norm_(trainable, o.MaxGradNorm);
                    optimizer.step();
                    losses.Add(stepLoss);
                    step++;
                    if (checkpoints?.Due(step, totalSteps) == true)
                        checkpoints.Save(step, totalSteps, losses, before + clock.Elapsed, optimizer);
                    progress?.Report(new TrainingProgress(phase, step, totalSteps, epoch, stepLoss, lr));
                }
            }
        }
        finally
        {
            optimizer.zero_grad();
            model.eval();
        }
        return new TrainingReport(phase, step, examples.Count, losses, before + clock.Elapsed);
    }

    /// <summary>A distinct, reproducible shuffling seed per epoch.</summary>
    static int EpochSeed(long seed, int epoch) => unchecked((int)(seed * 1_000_003 + epoch));

    static long StepSeed(long seed, int step) => unchecked(seed * 6_364_136_223_846_793_005L + step);
}

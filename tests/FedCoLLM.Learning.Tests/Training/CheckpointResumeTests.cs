using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Learning.Tests.Training;

public class CheckpointResumeTests
{
    static readonly TrainingSettings Settings = new()
    {
        Epochs = 3, BatchSize = 4, MaxLength = 32, Seed = 5,
        Optimizer = new OptimizerSettings { LearningRate = 1e-2, Schedule = LearningRateScheduleKind.CosineWithWarmup, WarmupRatio = 0.2 },
    };

    static TrainingCheckpoints Checkpoints(string dir, LoraAdapter adapter) =>
        new(dir, Every: 2, SaveModel: d => PeftAdapterFile.Save(d, adapter, null), LoadModel: d => PeftAdapterFile.Load(d, adapter));

    [Fact]
    public void A_run_interrupted_and_resumed_ends_bit_identical_to_an_uninterrupted_run()
    {
        var examples = TinyTask.Examples(16);
        var (straight, straightAdapter) = TinyTask.ModelWithLora(dropout: 0.2);
        var uninterrupted = SupervisedFineTuning.Train(straight, examples, Settings, Fixtures.Cpu);

        using var dir = new TempDirectory();
        var checkpointDir = Path.Combine(dir.Path, "ckpt");
        var (first, firstAdapter) = TinyTask.ModelWithLora(dropout: 0.2);
        using var cts = new CancellationTokenSource();
        var stopAfterFive = new InlineProgress<TrainingProgress>(p => { if (p.Step == 5) cts.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => TrainingLoop.Run("sft", first, examples, Settings, Fixtures.Cpu,
            SupervisedFineTuning.AnswerLoss, stopAfterFive, cts.Token, Checkpoints(checkpointDir, firstAdapter)));

        // A fresh process would build a fresh model: its adapter is overwritten from the step-4 checkpoint.
        var (resumed, resumedAdapter) = TinyTask.ModelWithLora(dropout: 0.2, seed: 1234);
        var report = TrainingLoop.Run("sft", resumed, examples, Settings, Fixtures.Cpu,
            SupervisedFineTuning.AnswerLoss, checkpoints: Checkpoints(checkpointDir, resumedAdapter));

        Assert.Equal(uninterrupted.Steps, report.Steps);
        Assert.Equal(uninterrupted.StepLosses, report.StepLosses);
        Assert.Equal(straightAdapter.Export().ToBytes(), resumedAdapter.Export().ToBytes());
    }

    [Fact]
    public void A_checkpoint_from_a_run_of_another_length_is_refused_with_the_fix()
    {
        var examples = TinyTask.Examples(16);
        using var dir = new TempDirectory();
        var checkpointDir = Path.Combine(dir.Path, "ckpt");
        var (model, adapter) = TinyTask.ModelWithLora();
        SupervisedFineTuning.Train(model, examples, Settings with { MaxSteps = 2 }, Fixtures.Cpu);
        TrainingLoop.Run("sft", model, examples, Settings with { MaxSteps = 2 }, Fixtures.Cpu,
            SupervisedFineTuning.AnswerLoss, checkpoints: Checkpoints(checkpointDir, adapter));

        var ex = Assert.Throws<InvalidOperationException>(() => TrainingLoop.Run("sft", model, examples, Settings, Fixtures.Cpu,
            SupervisedFineTuning.AnswerLoss, checkpoints: Checkpoints(checkpointDir, adapter)));
        Assert.Contains("delete the checkpoint directory", ex.Message);
    }
}

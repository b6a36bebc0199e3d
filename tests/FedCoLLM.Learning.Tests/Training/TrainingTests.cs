using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Training;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests.Training;

public class TrainingTests
{
    static readonly TrainingSettings Short = new()
    {
        Epochs = 2, BatchSize = 4, MaxLength = 32,
        Optimizer = new OptimizerSettings { LearningRate = 1e-2, Schedule = LearningRateScheduleKind.CosineWithWarmup, WarmupRatio = 0.2 },
    };

    static byte[] TrainOnce(string modelName, long seed)
    {
        var (model, adapter) = TinyTask.ModelWithLora(modelName, dropout: 0.1);
        SupervisedFineTuning.Train(model, TinyTask.Examples(24), Short with { Seed = seed }, Fixtures.Cpu);
        return adapter.Export().ToBytes();
    }

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("llama-tiny")]
    public void Two_runs_with_the_same_seed_produce_identical_adapter_bytes(string modelName)
    {
        Assert.Equal(TrainOnce(modelName, seed: 3), TrainOnce(modelName, seed: 3));
    }

    [Fact]
    public void Different_seeds_produce_different_adapters()
    {
        Assert.NotEqual(TrainOnce("gpt2-tiny", seed: 3), TrainOnce("gpt2-tiny", seed: 4));
    }

    [Fact]
    public void Supervised_fine_tuning_lowers_the_answer_loss()
    {
        var (model, _) = TinyTask.ModelWithLora(dropout: 0);
        var report = SupervisedFineTuning.Train(model, TinyTask.Examples(32),
            Short with { Epochs = 8, Optimizer = new OptimizerSettings { LearningRate = 3e-2 } }, Fixtures.Cpu);
        Assert.Equal(8 * 8, report.Steps);
        Assert.True(report.TailLoss < 0.6 * report.FirstLoss, $"loss {report.FirstLoss:F3} → {report.TailLoss:F3}");
    }

    [Fact]
    public void Gradient_accumulation_over_two_half_batches_equals_one_full_batch()
    {
        // Equal answer-token counts per micro-batch make the mean of means the global mean.
        var examples = TinyTask.Examples(4).Select(e => e with { PromptIds = e.PromptIds[..3] }).ToList();
        // A large epsilon keeps Adam's first step proportional to the gradient; with the default 1e-8 it is
        // ≈ lr·sign(g) and would amplify rounding differences in near-zero gradients into full steps.
        var full = Short with { Epochs = 1, BatchSize = 4, Optimizer = new OptimizerSettings { LearningRate = 1e-2, MaxGradNorm = 0, Epsilon = 1 } };
        var halves = full with { BatchSize = 2, GradientAccumulationSteps = 2 };

        // LLaMA has no dropout besides LoRA's (GPT-2's embedding/attention dropout would see different masks).
        var (a, adapterA) = TinyTask.ModelWithLora("llama-tiny", dropout: 0);
        var (b, adapterB) = TinyTask.ModelWithLora("llama-tiny", dropout: 0);
        Assert.Equal(1, SupervisedFineTuning.Train(a, examples, full, Fixtures.Cpu).Steps);
        Assert.Equal(1, SupervisedFineTuning.Train(b, examples, halves, Fixtures.Cpu).Steps);

        foreach (var name in adapterA.Export().Names)
        {
            using var x = adapterA.Export()[name].ToTensor();
            using var y = adapterB.Export()[name].ToTensor();
            Assert.True(x.allclose(y, rtol: 1e-4, atol: 1e-6), name);
        }
    }

    [Fact]
    public void Max_steps_stops_training_early()
    {
        var (model, _) = TinyTask.ModelWithLora();
        Assert.Equal(3, SupervisedFineTuning.Train(model, TinyTask.Examples(40), Short with { MaxSteps = 3 }, Fixtures.Cpu).Steps);
    }

    [Fact]
    public void Training_a_model_without_lora_is_refused_with_the_fix()
    {
        var model = Models.PretrainedModels.Load(Fixtures.Reference("gpt2-tiny"), Fixtures.Cpu);
        foreach (var p in model.parameters()) p.requires_grad = false;
        var ex = Assert.Throws<InvalidOperationException>(() =>
            SupervisedFineTuning.Train(model, TinyTask.Examples(4), Short, Fixtures.Cpu));
        Assert.Contains("apply a LoRA config first", ex.Message);
    }

    [Fact]
    public void Cancellation_stops_training_between_steps()
    {
        var (model, _) = TinyTask.ModelWithLora();
        using var cts = new CancellationTokenSource();
        int reports = 0;
        var progress = new InlineProgress<TrainingProgress>(p => { reports++; if (p.Step == 2) cts.Cancel(); });
        Assert.Throws<OperationCanceledException>(() =>
            SupervisedFineTuning.Train(model, TinyTask.Examples(40), Short, Fixtures.Cpu, progress, cts.Token));
        Assert.Equal(2, reports);
    }

    [Fact]
    public void Distillation_with_lambda_zero_is_exactly_supervised_fine_tuning()
    {
        var examples = TinyTask.Examples(16);
        var (teacher, _) = TinyTask.ModelWithLora("gpt2-tiny", seed: 99);
        var top = TeacherPass.Extract(teacher, examples, topK: 8, batchSize: 5, maxLength: 32, Fixtures.Cpu);

        var (a, adapterA) = TinyTask.ModelWithLora();
        var (b, adapterB) = TinyTask.ModelWithLora();
        SupervisedFineTuning.Train(a, examples, Short, Fixtures.Cpu);
        Distillation.Train("kd", b, examples, top, Short, new DistillationSettings { Lambda = 0 }, Fixtures.Cpu);
        Assert.Equal(adapterA.Export().ToBytes(), adapterB.Export().ToBytes());
    }

    [Fact]
    public void Distillation_moves_the_student_towards_the_teacher()
    {
        var examples = TinyTask.Examples(16);
        var (teacher, teacherAdapter) = TinyTask.ModelWithLora("gpt2-tiny", dropout: 0);
        SupervisedFineTuning.Train(teacher, examples, Short with { Epochs = 6, Optimizer = new OptimizerSettings { LearningRate = 3e-2 } }, Fixtures.Cpu);
        var top = TeacherPass.Extract(teacher, examples, topK: 16, batchSize: 8, maxLength: 32, Fixtures.Cpu);

        var (student, _) = TinyTask.ModelWithLora(dropout: 0);
        var kd = new DistillationSettings { Lambda = 1, Kd = new DistillationOptions(Temperature: 2, TopK: 16) };
        double before = KdLoss(student, examples, top, kd);
        Distillation.Train("kd", student, examples, top, Short with { Epochs = 6, Optimizer = new OptimizerSettings { LearningRate = 3e-2 } }, kd, Fixtures.Cpu);
        double after = KdLoss(student, examples, top, kd);
        Assert.True(after < 0.7 * before, $"KD loss {before:F4} → {after:F4}");
    }

    [Fact]
    public void Teacher_pass_keeps_one_row_per_answer_token_equal_to_an_unbatched_forward()
    {
        var examples = TinyTask.Examples(7);
        var (model, _) = TinyTask.ModelWithLora(dropout: 0);
        var top = TeacherPass.Extract(model, examples, topK: 5, batchSize: 3, maxLength: 32, Fixtures.Cpu);
        for (int i = 0; i < examples.Count; i++)
        {
            Assert.Equal(examples[i].AnswerIds.Length, top[i].Rows);
            var ids = examples[i].PromptIds.Concat(examples[i].AnswerIds).Select(x => (long)x).ToArray();
            using var logits = Fixtures.Logits(model, tensor(ids).unsqueeze(0), ones(1, ids.Length, dtype: int64));
            int p = examples[i].PromptIds.Length;
            for (int r = 0; r < top[i].Rows; r++)
            {
                var (values, indices) = logits[0, p - 1 + r].topk(5);
                Assert.Equal(indices.to(int32).data<int>().ToArray(), top[i].Indices[(r * 5)..(r * 5 + 5)]);
                var expected = values.data<float>().ToArray();
                for (int k = 0; k < 5; k++) Assert.Equal(expected[k], top[i].Logits[r * 5 + k], 4);
            }
        }
    }

    static double KdLoss(Models.CausalLanguageModel student, IReadOnlyList<FedCoLLM.Learning.Data.TokenizedExample> examples,
        IReadOnlyList<TeacherTopK> teacher, DistillationSettings kd)
    {
        using var _ = no_grad();
        using var batch = new FedCoLLM.Learning.Data.BatchBuilder(0, 32).Build(examples, Enumerable.Range(0, examples.Count).ToArray());
        student.eval();
        using var logits = student.forward(batch.InputIds, batch.AttentionMask);
        var (idx, lg) = TopKTeacher.Assemble(teacher, batch);
        return new TopKDistillationLoss(kd.Kd).Compute(AnswerPositions.Select(logits, batch.Labels), idx, lg).item<float>();
    }
}

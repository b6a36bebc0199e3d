using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Learning.Tests.Federation;

/// <summary>Small slices of the committed WordNet benchmark, written once per test class.</summary>
public sealed class FederationData : IDisposable
{
    readonly TempDirectory directory = new();

    public string Slm { get; } = Path.Combine(Fixtures.RepositoryRoot(), "models", "wordnet-slm");
    public QaPromptFormat Prompt { get; } = QaPromptFormat.Load(Path.Combine(Fixtures.RepositoryRoot(), "data", "wordnet", "prompt.json"));
    public string Train { get; }
    public string OtherTrain { get; }
    public string Public { get; }
    public string Test { get; }

    public FederationData()
    {
        string data = Path.Combine(Fixtures.RepositoryRoot(), "data", "wordnet");
        string Slice(string file, int skip, int count, string name)
        {
            var path = Path.Combine(directory.Path, name);
            File.WriteAllLines(path, File.ReadLines(Path.Combine(data, file)).Skip(skip).Take(count));
            return path;
        }
        Train = Slice("clients/noun.animal/train.jsonl", 0, 16, "train.jsonl");
        OtherTrain = Slice("clients/noun.plant/train.jsonl", 0, 12, "other-train.jsonl");
        Public = Slice("public/train.jsonl", 0, 24, "public.jsonl");
        Test = Slice("clients/noun.animal/test.jsonl", 0, 20, "test.jsonl");
    }

    /// <summary>The built-in SLM stands in for both models (they must share a tokenizer anyway); short phases.</summary>
    public FederationSetup Setup()
    {
        var setup = FederationSetup.Default(Slm, Slm, Prompt);
        var phase = setup.ClientTraining with { BatchSize = 8, Epochs = 1 };
        return setup with
        {
            ClientTraining = phase,
            SlmDistillation = phase,
            LlmDistillation = phase with { Optimizer = phase.Optimizer with { LearningRate = 1e-3 } },
            TopK = 16,
            Distillation = setup.Distillation with { Kd = setup.Distillation.Kd with { TopK = 16 } },
            EvalBatchSize = 16,
            // One thread: the machine is shared, and a 2-thread OpenMP team waits at every barrier for a descheduled peer.
            Compute = setup.Compute with { Threads = 1 },
        };
    }

    public void Dispose() => directory.Dispose();
}

public class FederationStepsTests(FederationData data) : IClassFixture<FederationData>
{
    [Fact]
    public void Initial_adapters_are_PEFT_inits_that_depend_only_on_the_seed()
    {
        using var steps = new FederationSteps(data.Setup());
        var bytes = steps.InitialAdapter(ModelKind.Slm, 5);
        var weights = AdapterWeights.FromBytes(bytes);
        // 4 layers × (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj) × (A, B)
        Assert.Equal(32, weights.Count);
        foreach (var t in weights.Tensors)
        {
            if (t.Name.EndsWith(".lora_B.weight")) Assert.All(t.Values, v => Assert.Equal(0f, v));
            else Assert.Contains(t.Values, v => v != 0f);
        }
        Assert.Equal(bytes, steps.InitialAdapter(ModelKind.Slm, 5));
        Assert.NotEqual(bytes, steps.InitialAdapter(ModelKind.Slm, 6));
        using var fresh = new FederationSteps(data.Setup());
        Assert.Equal(bytes, fresh.InitialAdapter(ModelKind.Slm, 5));
    }

    [Fact]
    public void Every_step_gives_the_same_bytes_on_a_fresh_instance_and_after_other_steps()
    {
        byte[] client, teacher, distilled;
        using (var fresh = new FederationSteps(data.Setup()))
        {
            var init = fresh.InitialAdapter(ModelKind.Slm, 1);
            client = fresh.TrainClient(init, data.Train, seed: 3).Adapter;
            teacher = fresh.TeacherLogits(ModelKind.Llm, init, data.Public);
            distilled = fresh.Distill(ModelKind.Slm, client, teacher, data.Public, seed: 4).Adapter;
        }
        using var busy = new FederationSteps(data.Setup());
        var init2 = busy.InitialAdapter(ModelKind.Slm, 1);
        // Leave the cached models, the generator and the data caches in some other state first.
        var other = busy.TrainClient(busy.InitialAdapter(ModelKind.Slm, 9), data.OtherTrain, seed: 11).Adapter;
        busy.Evaluate(ModelKind.Slm, other, data.Test, maxItems: 5);
        var otherTeacher = busy.TeacherLogits(ModelKind.Slm, other, data.Public);
        busy.Distill(ModelKind.Llm, other, otherTeacher, data.Public, seed: 12);

        Assert.Equal(distilled, busy.Distill(ModelKind.Slm, client, teacher, data.Public, seed: 4).Adapter);
        Assert.Equal(teacher, busy.TeacherLogits(ModelKind.Llm, init2, data.Public));
        Assert.Equal(client, busy.TrainClient(init2, data.Train, seed: 3).Adapter);
        Assert.NotEqual(client, busy.TrainClient(init2, data.Train, seed: 5).Adapter);
    }

    [Fact]
    public void A_client_step_lowers_the_answer_loss_on_its_data_and_reports_its_sample_count()
    {
        var setup = data.Setup();
        setup = setup with { ClientTraining = setup.ClientTraining with { Epochs = 8, Optimizer = new OptimizerSettings { LearningRate = 1e-2 } } };
        using var steps = new FederationSteps(setup);
        var update = steps.TrainClient(steps.InitialAdapter(ModelKind.Slm, 1), data.Train, seed: 2);
        Assert.Equal(16, update.SampleCount);
        Assert.Equal(16, update.Report.Examples);
        Assert.Equal(16, update.Report.Steps); // 2 batches × 8 epochs
        var head = update.Report.StepLosses.Take(2).Average();
        Assert.True(update.Report.TailLoss < 0.8 * head, $"loss {head:F3} → {update.Report.TailLoss:F3}");
    }

    [Fact]
    public void MaxClientExamples_truncates_the_training_set()
    {
        using var steps = new FederationSteps(data.Setup() with { MaxClientExamples = 5 });
        var update = steps.TrainClient(steps.InitialAdapter(ModelKind.Slm, 1), data.Train, seed: 2);
        Assert.Equal(5, update.SampleCount);
        Assert.Equal(1, update.Report.Steps);
    }

    [Fact]
    public void Aggregating_identical_adapters_returns_that_adapter()
    {
        using var steps = new FederationSteps(data.Setup());
        var update = steps.TrainClient(steps.InitialAdapter(ModelKind.Slm, 1), data.Train, seed: 2).Adapter;
        Assert.Equal(update, steps.Aggregate([(update, 10), (update, 3), (update, 7)]));
        var other = steps.InitialAdapter(ModelKind.Slm, 1);
        var mixed = AdapterWeights.FromBytes(steps.Aggregate([(update, 1), (other, 3)]));
        var (u, o) = (AdapterWeights.FromBytes(update), AdapterWeights.FromBytes(other));
        var key = u.Names.First(n => n.EndsWith(".lora_B.weight"));
        Assert.Equal(0.25 * u[key].Values[0] + 0.75 * o[key].Values[0], mixed[key].Values[0], 6);
    }

    [Fact]
    public void Teacher_logits_hold_top_k_rows_for_every_answer_token()
    {
        using var steps = new FederationSteps(data.Setup());
        var bytes = steps.TeacherLogits(ModelKind.Slm, steps.InitialAdapter(ModelKind.Slm, 1), data.Public);
        var file = TeacherLogitsFile.FromBytes(bytes);
        Assert.Equal(16, file.K);
        Assert.Equal(24, file.Count);
        Assert.All(file.Examples, e =>
        {
            Assert.True(e.Rows >= 1);
            for (int r = 0; r < e.Rows; r++)
                for (int j = 1; j < e.K; j++)
                    Assert.True(e.Logits[r * e.K + j - 1] >= e.Logits[r * e.K + j], "top-k logits are sorted, largest first");
        });
    }

    [Fact]
    public void Distillation_moves_the_student_and_its_KD_term_is_finite_and_positive()
    {
        var setup = data.Setup();
        using var steps = new FederationSteps(setup);
        var student = steps.TrainClient(steps.InitialAdapter(ModelKind.Slm, 1), data.Train, seed: 2).Adapter;
        // A different teacher: the base model with a fresh adapter.
        var teacher = steps.TeacherLogits(ModelKind.Llm, steps.InitialAdapter(ModelKind.Llm, 3), data.Public);
        var withKd = steps.Distill(ModelKind.Slm, student, teacher, data.Public, seed: 4);
        Assert.NotEqual(student, withKd.Adapter);
        Assert.Equal("distill-llm-to-slm", withKd.Report.Phase);
        Assert.All(withKd.Report.StepLosses, l => Assert.True(double.IsFinite(l)));

        using var ceOnly = new FederationSteps(setup with { Distillation = setup.Distillation with { Lambda = 0 } });
        var withoutKd = ceOnly.Distill(ModelKind.Slm, student, teacher, data.Public, seed: 4);
        // Same batches, same start: the first step's loss differs by exactly λ·KD ≥ 0.
        double kd = withKd.Report.FirstLoss - withoutKd.Report.FirstLoss;
        Assert.True(kd > 0 && double.IsFinite(kd), $"KD term {kd}");
    }

    [Fact]
    public void Distillation_rejects_teacher_logits_of_another_public_set()
    {
        using var steps = new FederationSteps(data.Setup());
        var init = steps.InitialAdapter(ModelKind.Slm, 1);
        var teacher = steps.TeacherLogits(ModelKind.Llm, init, data.Public);
        var ex = Assert.Throws<InvalidDataException>(() => steps.Distill(ModelKind.Slm, init, teacher, data.Train, seed: 1));
        Assert.Contains("24 examples", ex.Message);
    }

    [Fact]
    public void Evaluation_returns_accuracies_between_0_and_1()
    {
        using var steps = new FederationSteps(data.Setup());
        var init = steps.InitialAdapter(ModelKind.Slm, 1);
        var all = steps.Evaluate(ModelKind.Slm, init, data.Test);
        Assert.Equal(20, all.Total);
        Assert.InRange(all.Accuracy, 0, 1);
        Assert.InRange(all.AccuracyNormalized, 0, 1);
        Assert.Equal(7, steps.Evaluate(ModelKind.Slm, init, data.Test, maxItems: 7).Total);
    }

    [Fact]
    public void An_adapter_of_another_LoRA_config_is_rejected_naming_the_rank()
    {
        var setup = data.Setup();
        using var other = new FederationSteps(setup with { SlmLora = setup.SlmLora with { Rank = 4 } });
        var rank4 = other.InitialAdapter(ModelKind.Slm, 1);
        using var steps = new FederationSteps(setup);
        var ex = Assert.Throws<InvalidDataException>(() => steps.TrainClient(rank4, data.Train, seed: 1));
        Assert.Contains("r = 4", ex.Message);
        Assert.Throws<InvalidDataException>(() => steps.Evaluate(ModelKind.Slm, [1, 2, 3], data.Test));
    }

    [Fact]
    public void Disposed_instances_refuse_work()
    {
        var steps = new FederationSteps(data.Setup());
        steps.Dispose();
        Assert.Throws<ObjectDisposedException>(() => steps.InitialAdapter(ModelKind.Slm, 1));
    }
}

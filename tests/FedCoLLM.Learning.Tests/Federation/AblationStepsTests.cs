using FedCoLLM.Learning.Federation;

namespace FedCoLLM.Learning.Tests.Federation;

/// <summary>The learning side of issue 16's ablations on the WordNet slices: λ = 0 never reads the teacher, KD only
/// (public CE off) learns from the teacher alone, the teacher pass reports its mass outside the top-k without changing
/// its bytes, and the LLM-on-the-public-set step trains the LLM on the public file.</summary>
public class AblationStepsTests(FederationData data) : IClassFixture<FederationData>
{
    [Fact]
    public void Lambda_zero_skips_the_KD_term_and_KD_only_follows_the_teacher()
    {
        var setup = data.Setup();
        using var steps = new FederationSteps(setup);
        var student = steps.InitialAdapter(ModelKind.Slm, 1);
        var teacherA = steps.TeacherLogits(ModelKind.Llm, steps.InitialAdapter(ModelKind.Llm, 2), data.Public);
        var trained = steps.TrainClient(student, data.Train, seed: 3).Adapter;
        var teacherB = steps.TeacherLogits(ModelKind.Llm, trained, data.Public);
        Assert.NotEqual(teacherA, teacherB);

        using (var ceOnly = new FederationSteps(setup with { Distillation = setup.Distillation with { Lambda = 0 } }))
            Assert.Equal(ceOnly.Distill(ModelKind.Slm, student, teacherA, data.Public, seed: 4).Adapter,
                ceOnly.Distill(ModelKind.Slm, student, teacherB, data.Public, seed: 4).Adapter);

        var both = steps.Distill(ModelKind.Slm, student, teacherA, data.Public, seed: 4);
        using var kdOnly = new FederationSteps(setup with { Distillation = setup.Distillation with { PublicCrossEntropy = false } });
        var fromA = kdOnly.Distill(ModelKind.Slm, student, teacherA, data.Public, seed: 4);
        var fromB = kdOnly.Distill(ModelKind.Slm, student, teacherB, data.Public, seed: 4);
        Assert.NotEqual(fromA.Adapter, fromB.Adapter);
        Assert.NotEqual(both.Adapter, fromA.Adapter);
        // CE + KD minus KD: the CE part is what the KD-only loss lacks, and CE on WordNet answers is several nats.
        Assert.True(both.Report.FirstLoss > fromA.Report.FirstLoss + 1, $"CE+KD {both.Report.FirstLoss} vs KD only {fromA.Report.FirstLoss}");
    }

    [Fact]
    public void The_teacher_pass_reports_its_mass_outside_the_top_k_with_unchanged_bytes()
    {
        using var steps = new FederationSteps(data.Setup());
        var adapter = steps.InitialAdapter(ModelKind.Llm, 2);
        var result = steps.TeacherLogitsWithMass(ModelKind.Llm, adapter, data.Public);
        Assert.Equal(steps.TeacherLogits(ModelKind.Llm, adapter, data.Public), result.Logits);
        // Averaged over every answer position the file holds a row for, not over questions.
        Assert.Equal(TeacherLogitsFile.FromBytes(result.Logits).TotalRows, result.Positions);
        Assert.True(result.Positions > 24, $"{result.Positions} answer positions for 24 public questions");
        Assert.InRange(result.MassOutsideTopK, 1e-6, 1 - 1e-6);

        var setup = data.Setup();
        using var hot = new FederationSteps(setup with { Distillation = setup.Distillation with { Kd = setup.Distillation.Kd with { Temperature = 4 } } });
        Assert.True(hot.TeacherLogitsWithMass(ModelKind.Llm, adapter, data.Public).MassOutsideTopK > result.MassOutsideTopK);
    }

    [Fact]
    public void The_LLM_on_the_public_set_trains_on_the_public_file()
    {
        using var steps = new FederationSteps(data.Setup());
        var init = steps.InitialAdapter(ModelKind.Llm, 1);
        var tuned = steps.TrainLlmOnPublic(init, data.Public, seed: 2);
        Assert.Equal(24, tuned.SampleCount);
        Assert.NotEqual(init, tuned.Adapter);
        Assert.Equal(tuned.Adapter, steps.TrainLlmOnPublic(init, data.Public, seed: 2).Adapter);
    }
}

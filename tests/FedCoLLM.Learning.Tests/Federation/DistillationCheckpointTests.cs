using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Learning.Tests.Federation;

/// <summary>A distillation step killed midway resumes from its checkpoint directory and returns the bytes an uninterrupted
/// step returns (the failover path of a server step that the job entity re-dispatches with the same inputs).</summary>
public class DistillationCheckpointTests(FederationData data) : IClassFixture<FederationData>
{
    sealed class Steps(Action<TrainingProgress> onStep) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => onStep(value);
    }

    [Fact]
    public void A_distillation_killed_after_two_steps_resumes_at_the_third_and_returns_the_same_bytes()
    {
        using var steps = new FederationSteps(data.Setup());
        var student = steps.InitialAdapter(ModelKind.Slm, 1);
        var teacher = steps.TeacherLogits(ModelKind.Llm, steps.InitialAdapter(ModelKind.Llm, 2), data.Public);
        var whole = steps.Distill(ModelKind.Slm, student, teacher, data.Public, seed: 4);
        Assert.True(whole.Report.Steps >= 3, $"the fixture's distillation has {whole.Report.Steps} steps; the test needs 3");

        using var dir = new TempDirectory();
        var checkpoint = new StepCheckpoint(Path.Combine(dir.Path, "distill-llm-to-slm"));
        using var kill = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => steps.Distill(ModelKind.Slm, student, teacher, data.Public, seed: 4,
            new Steps(p => { if (p.Step == 2) kill.Cancel(); }), kill.Token, checkpoint));

        var resumedAt = new List<int>();
        var resumed = steps.Distill(ModelKind.Slm, student, teacher, data.Public, seed: 4, new Steps(p => resumedAt.Add(p.Step)), default, checkpoint);

        Assert.Equal(3, resumedAt[0]); // steps 1 and 2 came from the checkpoint, not from training again
        Assert.Equal(whole.Adapter, resumed.Adapter);
        Assert.Equal(whole.Report.StepLosses, resumed.Report.StepLosses);
    }
}

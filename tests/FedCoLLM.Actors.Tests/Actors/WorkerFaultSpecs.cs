using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Tests.Actors;

[Collection(FederationCollection.Name)]
public sealed class WorkerFaultSpecs
{
    [Fact]
    public async Task A_step_that_throws_twice_is_retried_and_the_round_completes()
    {
        const string job = "flaky";
        using var run = new RunDirectory();
        var runner = new FlakyRunner(TestNode.RealRunner(run), RoundPhase.LlmTeacherLogits, failures: 2);
        await using var node = TestNode.Start(run, job, runner, Tiny.TwoClients, Tiny.FastRetries(maxAttempts: 3));
        await node.StartJob(Tiny.Spec(job));

        var final = await node.WaitForEnd(job);
        Assert.Equal(RoundPhase.Completed, final.Phase);
        Assert.Equal(0, Math.Max(0, runner.FailuresLeft));
        Assert.Equal(3, runner.Calls.Count(c => c.Phase == RoundPhase.LlmTeacherLogits));
        var events = await node.JournalEvents(job);
        Assert.Single(events.OfType<PhaseCompleted>(), p => p.Phase == RoundPhase.LlmTeacherLogits);
        Assert.Empty(events.OfType<JobFailed>());
    }

    [Fact]
    public async Task A_step_that_keeps_failing_fails_the_job_after_MaxAttempts_with_the_reason_persisted()
    {
        const string job = "doomed";
        using var run = new RunDirectory();
        var runner = new FlakyRunner(TestNode.RealRunner(run), RoundPhase.LlmTeacherLogits, failures: int.MaxValue);
        await using var node = TestNode.Start(run, job, runner, Tiny.TwoClients, Tiny.FastRetries(maxAttempts: 2));
        await node.StartJob(Tiny.Spec(job));

        var final = await node.WaitForEnd(job);
        Assert.Equal(RoundPhase.Failed, final.Phase);
        Assert.Equal(2, runner.Calls.Count(c => c.Phase == RoundPhase.LlmTeacherLogits));
        var failed = Assert.Single((await node.JournalEvents(job)).OfType<JobFailed>());
        Assert.Contains("LlmTeacherLogits of round 1 failed 2 times", failed.Reason);
        Assert.Contains("injected failure", failed.Reason);
        Assert.Equal(failed.Reason, final.FailureReason);
    }
}

using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Server;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Actors.Tests.Server;

public class PendingStepTests
{
    static StepRequest Step(int round, RoundPhase phase) => new("job", round, phase, [], 1);

    [Fact]
    public void A_step_is_sent_once_until_it_succeeds_fails_or_is_dropped()
    {
        var pending = new PendingStep(new RetryPolicy(3));

        Assert.True(pending.Begin(Step(1, RoundPhase.Aggregating)));
        Assert.False(pending.Begin(Step(1, RoundPhase.Aggregating)));
        Assert.True(pending.IsFor(Step(1, RoundPhase.Aggregating)));
        Assert.False(pending.IsFor(Step(1, RoundPhase.Evaluating)));

        pending.Drop();
        Assert.True(pending.Begin(Step(1, RoundPhase.Aggregating)));
    }

    [Fact]
    public void Retries_back_off_until_the_policy_is_spent_and_a_new_step_starts_counting_afresh()
    {
        var policy = new RetryPolicy(MaxAttempts: 3, BaseDelaySeconds: 1, MaxDelaySeconds: 30);
        var pending = new PendingStep(policy);
        pending.Begin(Step(1, RoundPhase.SlmDistillation));

        Assert.Equal((1, (TimeSpan?)TimeSpan.FromSeconds(1)), pending.Failed());
        Assert.Equal((2, (TimeSpan?)TimeSpan.FromSeconds(2)), pending.Failed());
        Assert.Equal((3, (TimeSpan?)null), pending.Failed());

        pending.Begin(Step(1, RoundPhase.SlmTeacherLogits));
        Assert.Equal(1, pending.Failed().Attempts);
    }
}

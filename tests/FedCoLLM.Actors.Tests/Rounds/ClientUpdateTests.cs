using FedCoLLM.Actors.Rounds;
using static FedCoLLM.Actors.Tests.Rounds.Commands;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>Which client updates are accepted, acknowledged again, or refused.</summary>
public class ClientUpdateTests
{
    [Fact]
    public void Resent_identical_update_is_a_duplicate_and_changes_nothing()
    {
        var f = Federation.InRound1().Given(Update(1, "bob"));
        var before = f.State;

        var d = f.Send(Update(1, "bob"));

        Assert.Equal(Outcome.Duplicate, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Same(before, f.State);
    }

    [Fact]
    public void Resent_identical_update_after_the_round_moved_on_is_still_a_duplicate()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.SlmDistillation);

        var d = f.Send(Update(1, "bob"));

        Assert.Equal(Outcome.Duplicate, d.Outcome);
        Assert.Empty(d.Events);
    }

    [Fact]
    public void A_different_update_from_the_same_client_in_the_same_round_is_rejected()
    {
        var f = Federation.InRound1().Given(Update(1, "bob"));

        var d = f.Send(new SubmitUpdate(1, "bob", Blobs.Named("another adapter"), 100, 1.5));

        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Contains("bob", d.Detail);
        Assert.Equal(Blobs.Update(1, "bob"), f.State.Updates["bob"].Update);
    }

    [Fact]
    public void An_update_for_a_past_round_is_late()
    {
        var f = Federation.InRound1().RunTo(2, RoundPhase.ClientsTraining);

        var d = f.Send(Update(1, "bob"));

        Assert.Equal(Outcome.Late, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Empty(f.State.Updates);
    }

    [Fact]
    public void An_update_from_a_client_that_missed_the_deadline_is_late()
    {
        var f = Federation.InRound1().Given(Update(1, "alice"), Update(1, "bob"), new CloseTraining(1, 1));

        var d = f.Send(Update(1, "carol"));

        Assert.Equal(Outcome.Late, d.Outcome);
        Assert.Empty(d.Events);
        Assert.False(f.State.Updates.ContainsKey("carol"));
    }

    [Fact]
    public void An_update_while_the_adapters_are_being_initialized_is_late()
    {
        var d = Federation.Started().Send(Update(1, "bob"));

        Assert.Equal(Outcome.Late, d.Outcome);
        Assert.Empty(d.Events);
    }

    [Fact]
    public void An_update_from_an_unknown_client_is_rejected_naming_it()
    {
        var d = Federation.InRound1().Send(Update(1, "mallory"));

        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Contains("\"mallory\"", d.Detail);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void An_update_without_samples_is_rejected(long samples)
    {
        var f = Federation.InRound1();

        var d = f.Send(Update(1, "bob", samples: samples));

        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Contains("SampleCount", d.Detail);
        Assert.Empty(f.State.Updates);
    }

    [Fact]
    public void An_update_before_any_job_started_is_rejected()
    {
        var d = new Federation().Send(Update(1, "bob"));

        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Empty(d.Events);
    }

    [Fact]
    public void An_update_accepted_in_an_abandoned_attempt_can_be_submitted_again()
    {
        var spec = Specs.Default with { MinUpdates = 3 };
        var f = Federation.InRound1(spec).Given(Update(1, "bob"), new CloseTraining(1, 1));

        var d = f.Send(Update(1, "bob"));

        Assert.Equal(Outcome.Accepted, d.Outcome);
        Assert.Equal(2, f.State.Attempt);
        Assert.True(f.State.Updates.ContainsKey("bob"));
    }
}

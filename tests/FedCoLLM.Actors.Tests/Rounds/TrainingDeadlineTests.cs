using FedCoLLM.Actors.Rounds;
using static FedCoLLM.Actors.Tests.Rounds.Commands;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>What happens when the client deadline passes: close with a quorum, retry below it, fail after the last attempt.</summary>
public class TrainingDeadlineTests
{
    [Fact]
    public void A_round_opens_with_a_deadline_ClientTimeout_after_the_event_that_opened_it()
    {
        var f = Federation.InRound1();

        var opened = Assert.IsType<AdaptersInitialized>(f.Journal[^1]);
        Assert.Equal(opened.At + Specs.Default.ClientTimeout, f.State.ClientDeadline);
    }

    [Fact]
    public void The_next_round_opens_with_a_deadline_ClientTimeout_after_the_commit()
    {
        var f = Federation.InRound1().RunTo(2, RoundPhase.ClientsTraining);

        var commit = Assert.IsType<RoundCommitted>(f.Journal[^1]);
        Assert.Equal(commit.At + Specs.Default.ClientTimeout, f.State.ClientDeadline);
    }

    [Fact]
    public void Client_updates_do_not_move_the_deadline()
    {
        var f = Federation.InRound1();
        var deadline = f.State.ClientDeadline;
        f.Now += TimeSpan.FromMinutes(5);

        f.Given(Update(1, "bob"));

        Assert.Equal(deadline, f.State.ClientDeadline);
    }

    [Fact]
    public void Closing_training_with_a_quorum_lists_the_client_that_never_answered()
    {
        var f = Federation.InRound1().Given(Update(1, "alice"), Update(1, "carol"));

        var d = f.Send(new CloseTraining(1, 1));

        var closed = Assert.IsType<TrainingClosed>(Assert.Single(d.Events));
        Assert.Equal(["bob"], closed.Missing);
        Assert.Equal(["bob"], f.State.Missing);
        Assert.Equal(RoundPhase.Aggregating, f.State.Phase);
        Assert.Null(f.State.ClientDeadline);
    }

    [Fact]
    public void Aggregation_after_a_partial_round_uses_only_submitted_updates_in_ordinal_client_order_with_their_sample_counts()
    {
        var spec = Specs.Default with { ClientIds = ["zoe", "Zed", "amy", "bob"] };
        var f = Federation.InRound1(spec)
            .Given(Update(1, "zoe", samples: 30), Update(1, "amy", samples: 10), Update(1, "Zed", samples: 20), new CloseTraining(1, 1));

        var aggregation = Assert.IsType<RunAggregation>(f.State.NextWork());

        Assert.Equal([Blobs.Update(1, "Zed"), Blobs.Update(1, "amy"), Blobs.Update(1, "zoe")], aggregation.Request.Inputs);
        Assert.Equal([20L, 10L, 30L], aggregation.Request.SampleCounts!);
    }

    [Fact]
    public void A_committed_partial_round_records_who_took_part_and_who_was_missing()
    {
        var f = Federation.InRound1()
            .Given(Update(1, "carol"), Update(1, "alice"), new CloseTraining(1, 1))
            .RunTo(2, RoundPhase.ClientsTraining);

        var record = Assert.Single(f.State.History);
        Assert.Equal(["alice", "carol"], record.Participants);
        Assert.Equal(["bob"], record.Missing);
        Assert.Empty(f.State.Missing);
    }

    [Fact]
    public void Closing_training_below_the_quorum_abandons_the_round()
    {
        var f = Federation.InRound1().Given(Update(1, "bob"));

        var d = f.Send(new CloseTraining(1, 1));

        var abandoned = Assert.IsType<RoundAbandoned>(Assert.Single(d.Events));
        Assert.Equal((1, 1), (abandoned.Round, abandoned.Attempt));
        Assert.Contains("quorum is 2", abandoned.Reason);
    }

    [Fact]
    public void An_abandoned_round_reopens_as_the_next_attempt_with_a_fresh_deadline_and_no_updates()
    {
        var f = Federation.InRound1().Given(Update(1, "bob"));
        f.Now = Federation.T0 + TimeSpan.FromMinutes(11);

        f.Send(new CloseTraining(1, 1));

        var s = f.State;
        Assert.Equal(RoundPhase.ClientsTraining, s.Phase);
        Assert.Equal((1, 2), (s.Round, s.Attempt));
        Assert.Equal(Federation.T0 + TimeSpan.FromMinutes(21), s.ClientDeadline);
        Assert.Empty(s.Updates);
        Assert.Empty(s.RoundMetrics);
        Assert.Equal(Specs.Clients, s.Waiting);
        Assert.Equal(Blobs.InitialSlm, s.Slm);
        Assert.Empty(s.History);
    }

    [Fact]
    public void Closing_below_the_quorum_on_the_last_attempt_fails_the_job()
    {
        var spec = Specs.Default with { MaxRoundAttempts = 2 };
        var f = Federation.InRound1(spec).Given(new CloseTraining(1, 1));

        var d = f.Send(new CloseTraining(1, 2));

        var failed = Assert.IsType<JobFailed>(Assert.Single(d.Events));
        Assert.Contains("after 2 attempts", failed.Reason);
        Assert.Equal(RoundPhase.Failed, f.State.Phase);
        Assert.Equal(failed.Reason, f.State.FailureReason);
        Assert.Same(RoundWork.Nothing, f.State.NextWork());
    }

    [Fact]
    public void A_single_attempt_job_fails_on_its_first_missed_quorum()
    {
        var f = Federation.InRound1(Specs.Default with { MaxRoundAttempts = 1 });

        var d = f.Send(new CloseTraining(1, 1));

        Assert.IsType<JobFailed>(Assert.Single(d.Events));
    }

    [Fact]
    public void A_round_committed_on_a_retry_records_its_attempt_and_the_next_round_starts_at_attempt_1()
    {
        var f = Federation.InRound1().Given(new CloseTraining(1, 1)).RunTo(2, RoundPhase.ClientsTraining);

        Assert.Equal(2, Assert.Single(f.State.History).Attempt);
        Assert.Equal(1, f.State.Attempt);
    }

    [Fact]
    public void Closing_an_earlier_attempt_is_late()
    {
        var f = Federation.InRound1().Given(new CloseTraining(1, 1));

        var d = f.Send(new CloseTraining(1, 1));

        Assert.Equal(Outcome.Late, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Equal(2, f.State.Attempt);
    }

    [Fact]
    public void Closing_another_round_is_late()
    {
        var f = Federation.InRound1().RunTo(2, RoundPhase.ClientsTraining);

        var d = f.Send(new CloseTraining(1, 1));

        Assert.Equal(Outcome.Late, d.Outcome);
        Assert.Empty(d.Events);
    }

    [Fact]
    public void Closing_after_every_client_answered_is_late()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.Aggregating);

        var d = f.Send(new CloseTraining(1, 1));

        Assert.Equal(Outcome.Late, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Empty(f.State.Missing);
    }
}

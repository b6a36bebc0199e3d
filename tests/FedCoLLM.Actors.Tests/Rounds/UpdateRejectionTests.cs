using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Tests.Serialization;
using static FedCoLLM.Actors.Tests.Rounds.Commands;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>A refused update (RejectUpdate, decided by the screen) is journaled with its reason; the client sits the
/// round attempt out and the round goes on with the others.</summary>
static class RefusalSteps
{
    /// <summary>Sends refusals that must each be journaled (their outcome is Rejected, with one event).</summary>
    public static Federation Refusing(this Federation f, params RejectUpdate[] refusals)
    {
        foreach (var r in refusals)
            Assert.IsType<ClientUpdateRejected>(Assert.Single(f.Send(r).Events));
        return f;
    }
}

public class UpdateRejectionTests
{
    static RejectUpdate Refuse(int round, string client, string fault = "non-finite") =>
        new(round, client, Blobs.Named($"r{round}/bad/{client}"), fault, $"{fault} detail");

    [Fact]
    public void A_refusal_is_journaled_with_its_reason_and_the_client_no_longer_awaited()
    {
        var f = Federation.InRound1();

        var d = f.Send(Refuse(1, "carol"));

        Assert.Equal(Outcome.Rejected, d.Outcome);
        var e = Assert.IsType<ClientUpdateRejected>(Assert.Single(d.Events));
        Assert.Equal(("carol", "non-finite", "non-finite detail"), (e.ClientId, e.Fault, e.Reason));
        Assert.Equal(["alice", "bob"], f.State.Waiting);
        Assert.Contains("non-finite detail", f.State.Rejected["carol"]);
    }

    [Fact]
    public void The_round_goes_on_as_soon_as_the_others_have_answered()
    {
        var f = Federation.InRound1().Given(Update(1, "alice")).Refusing(Refuse(1, "carol")).Given(Update(1, "bob"));

        Assert.NotEqual(RoundPhase.ClientsTraining, f.State.Phase);
        var work = Assert.IsType<RunAggregation>(f.State.NextWork());
        Assert.Equal([Blobs.Update(1, "alice"), Blobs.Update(1, "bob")], work.Request.Inputs);
        f.RunToEnd();
        Assert.Equal(RoundPhase.Completed, f.State.Phase);
        Assert.Equal(["alice", "bob"], f.State.History[0].Participants);
    }

    [Fact]
    public void Below_the_quorum_the_round_waits_for_its_deadline_which_retries_it()
    {
        var f = Federation.InRound1().Given(Update(1, "alice")).Refusing(Refuse(1, "bob"), Refuse(1, "carol"));

        Assert.Equal(RoundPhase.ClientsTraining, f.State.Phase); // quorum is 2
        var abandoned = Assert.IsType<RoundAbandoned>(Assert.Single(f.Send(new CloseTraining(1, 1)).Events));
        Assert.Contains("only 1 of 3", abandoned.Reason);
        Assert.Empty(f.State.Rejected);
        Assert.Equal(Specs.Clients, f.State.Waiting);
    }

    [Fact]
    public void A_refused_client_s_resend_or_other_update_is_refused_again_and_changes_nothing()
    {
        var f = Federation.InRound1().Refusing(Refuse(1, "carol"));
        var before = f.State;

        var resend = f.Send(Update(1, "carol"));
        var again = f.Send(Refuse(1, "carol"));

        Assert.Equal(Outcome.Rejected, resend.Outcome);
        Assert.Contains("refused earlier", resend.Detail);
        Assert.Empty(resend.Events);
        Assert.Equal(Outcome.Late, again.Outcome);
        Assert.Empty(again.Events);
        Assert.Same(before, f.State);
    }

    [Fact]
    public void Replaying_the_journal_restores_the_refusals()
    {
        var f = Federation.InRound1().Given(Update(1, "alice")).Refusing(Refuse(1, "carol"));

        Assert.Equal(Structural.Describe(f.State), Structural.Describe(f.Replayed()));
    }
}

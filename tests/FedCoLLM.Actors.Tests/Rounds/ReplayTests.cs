using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;
using static FedCoLLM.Actors.Tests.Rounds.Commands;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>Recovery: the state, its absolute deadline and its pending work come back from the journal alone.</summary>
public class ReplayTests
{
    static void AssertSameState(RoundState expected, RoundState actual)
    {
        Assert.Same(expected.Job, actual.Job);
        Assert.Equal((expected.Phase, expected.Round, expected.Attempt), (actual.Phase, actual.Round, actual.Attempt));
        Assert.Equal((expected.GlobalSlm, expected.GlobalLlm), (actual.GlobalSlm, actual.GlobalLlm));
        Assert.Equal((expected.Slm, expected.Llm, expected.Slots.GetValueOrDefault(Slots.LlmLogits), expected.Slots.GetValueOrDefault(Slots.SlmLogits)), (actual.Slm, actual.Llm, actual.Slots.GetValueOrDefault(Slots.LlmLogits), actual.Slots.GetValueOrDefault(Slots.SlmLogits)));
        Assert.Equal(expected.ClientDeadline, actual.ClientDeadline);
        Assert.Equal(expected.Updates.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.Updates.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(expected.Missing, actual.Missing);
        Assert.Equal(Describe.Metrics(expected.RoundMetrics), Describe.Metrics(actual.RoundMetrics));
        Assert.Equal(expected.History.Count, actual.History.Count);
        foreach (var (e, a) in expected.History.Zip(actual.History))
        {
            Assert.Equal((e.Round, e.Attempt, e.Slm, e.Llm, e.At), (a.Round, a.Attempt, a.Slm, a.Llm, a.At));
            Assert.Equal(e.Participants, a.Participants);
            Assert.Equal(e.Missing, a.Missing);
            Assert.Equal(Describe.Metrics(e.Metrics), Describe.Metrics(a.Metrics));
        }
        Assert.Equal(expected.FailureReason, actual.FailureReason);
        Assert.Equal(Describe.Work(expected), Describe.Work(actual));
    }

    [Fact]
    public void Replaying_the_journal_of_an_open_round_reproduces_its_state_and_deadline()
    {
        var f = Federation.InRound1().Given(Update(1, "carol"));

        AssertSameState(f.State, f.Replayed());
    }

    [Fact]
    public void Replaying_long_after_the_events_keeps_the_original_absolute_deadline()
    {
        var f = Federation.InRound1().Given(Update(1, "bob"));
        f.Now += TimeSpan.FromHours(3);
        f.Given(new CloseTraining(1, 1));
        var reopened = Assert.IsType<RoundAbandoned>(f.Journal[^1]);

        var recovered = f.Replayed();

        Assert.Equal(reopened.At + Specs.Default.ClientTimeout, recovered.ClientDeadline);
        AssertSameState(f.State, recovered);
    }

    [Fact]
    public void Replaying_mid_round_after_a_partial_close_reproduces_the_missing_clients_and_pending_aggregation()
    {
        var f = Federation.InRound1().Given(Update(1, "bob", samples: 3), Update(1, "alice", samples: 9), new CloseTraining(1, 1));

        AssertSameState(f.State, f.Replayed());
    }

    [Fact]
    public void Replaying_in_the_middle_of_round_2_reproduces_the_history_and_working_adapters()
    {
        var f = Federation.InRound1().RunTo(2, RoundPhase.LlmDistillation);

        AssertSameState(f.State, f.Replayed());
    }

    [Fact]
    public void Replaying_a_completed_job_reproduces_it()
    {
        var f = Federation.InRound1().RunToEnd();

        AssertSameState(f.State, f.Replayed());
    }

    [Fact]
    public void Replaying_a_failed_job_reproduces_the_reason()
    {
        var f = Federation.InRound1(Specs.Default with { MaxRoundAttempts = 1 }).Given(new CloseTraining(1, 1));

        AssertSameState(f.State, f.Replayed());
    }

    [Fact]
    public void Every_prefix_of_a_whole_job_journal_replays_to_the_state_it_produced()
    {
        var f = Federation.InRound1().Given(Update(1, "bob"), new CloseTraining(1, 1)).RunToEnd();

        var replayed = RoundState.Empty;
        for (int i = 0; i < f.Journal.Count; i++)
        {
            replayed = replayed.Apply(f.Journal[i]);
            AssertSameState(f.StatesAfter[i], replayed);
        }
    }
}

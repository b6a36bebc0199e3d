using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;
using static FedCoLLM.Actors.Tests.Rounds.Commands;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>The FedAvg plan: the same round without the LLM and the distillations.</summary>
public class FedAvgRoundTests
{
    [Fact]
    public void FedAvg_round_goes_from_aggregation_straight_to_the_broadcast()
    {
        var f = Federation.InRound1(Specs.FedAvg).RunTo(1, RoundPhase.Aggregating);
        f.Send(Output(1, RoundPhase.Aggregating));

        Assert.Equal(RoundPhase.SlmBroadcast, f.State.Phase);
        Assert.Equal(new BroadcastSlm(1, Blobs.Output(1, RoundPhase.Aggregating), Final: false), f.State.NextWork());
    }

    [Fact]
    public void FedAvg_broadcast_is_followed_by_evaluation()
    {
        var f = Federation.InRound1(Specs.FedAvg).RunTo(1, RoundPhase.SlmBroadcast);
        f.Send(new RecordBroadcast(1, Specs.Clients));

        Assert.Equal(RoundPhase.Evaluating, f.State.Phase);
    }

    [Fact]
    public void FedAvg_commits_the_aggregated_SLM_and_leaves_the_LLM_untouched()
    {
        var f = Federation.InRound1(Specs.FedAvg).RunTo(1, RoundPhase.Evaluating);
        f.Send(Evaluated(1));

        Assert.Equal((Blobs.Output(1, RoundPhase.Aggregating), Blobs.InitialLlm), (f.State.GlobalSlm, f.State.GlobalLlm));
        Assert.Null(f.State.Slots.GetValueOrDefault(Slots.LlmLogits));
        Assert.Null(f.State.Slots.GetValueOrDefault(Slots.SlmLogits));
    }

    [Fact]
    public void A_FedAvg_job_never_enters_a_distillation_phase()
    {
        var f = Federation.Started(Specs.FedAvg);
        var visited = new List<(int, RoundPhase)> { (f.State.Round, f.State.Phase) };
        while (f.State.IsRunning)
        {
            f.CompletePhase();
            visited.Add((f.State.Round, f.State.Phase));
        }

        RoundPhase[] round = [RoundPhase.ClientsTraining, RoundPhase.Aggregating, RoundPhase.SlmBroadcast, RoundPhase.Evaluating];
        Assert.Equal(
            [(0, RoundPhase.Initializing), .. round.Select(p => (1, p)), .. round.Select(p => (2, p)), (2, RoundPhase.Completed)],
            visited);
        Assert.Equal(2, f.State.History.Count);
    }

    [Fact]
    public void A_distillation_result_sent_to_a_FedAvg_job_is_late()
    {
        var f = Federation.InRound1(Specs.FedAvg).RunTo(1, RoundPhase.SlmBroadcast);
        var d = f.Send(Output(1, RoundPhase.SlmDistillation));

        Assert.Equal(Outcome.Late, d.Outcome);
        Assert.Empty(d.Events);
    }
}

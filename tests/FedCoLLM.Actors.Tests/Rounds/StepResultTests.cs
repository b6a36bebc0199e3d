using FedCoLLM.Actors.Rounds;
using static FedCoLLM.Actors.Tests.Rounds.Commands;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>Server step results and broadcast records that do not match where the job stands.</summary>
public class StepResultTests
{
    [Fact]
    public void A_step_result_for_another_round_is_late()
    {
        var f = Federation.InRound1().RunTo(2, RoundPhase.Aggregating);

        var d = f.Send(Output(1, RoundPhase.Aggregating));

        Assert.Equal(Outcome.Late, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Equal(RoundPhase.Aggregating, f.State.Phase);
    }

    [Fact]
    public void A_resent_result_of_a_phase_already_completed_is_late()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.LlmTeacherLogits);

        var d = f.Send(new CompleteStep(1, RoundPhase.Aggregating, Result(Blobs.Named("recomputed"))));

        Assert.Equal(Outcome.Late, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Equal(Blobs.Output(1, RoundPhase.Aggregating), f.State.Slm);
    }

    [Fact]
    public void A_step_result_for_a_phase_not_reached_yet_is_late()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.Aggregating);

        var d = f.Send(Output(1, RoundPhase.SlmDistillation));

        Assert.Equal(Outcome.Late, d.Outcome);
        Assert.Equal(RoundPhase.Aggregating, f.State.Phase);
    }

    [Fact]
    public void A_resent_initialization_after_round_1_opened_is_late()
    {
        var f = Federation.InRound1();

        var d = f.Send(Initialized());

        Assert.Equal(Outcome.Late, d.Outcome);
        Assert.Empty(d.Events);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void Initialization_that_does_not_produce_exactly_two_adapters_is_rejected(int outputs)
    {
        var f = Federation.Started();

        var d = f.Send(new CompleteStep(0, RoundPhase.Initializing, Result(Enumerable.Range(0, outputs).Select(i => Blobs.Named($"o{i}")).ToArray())));

        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Contains("2 outputs", d.Detail);
        Assert.Equal(RoundPhase.Initializing, f.State.Phase);
    }

    [Theory]
    [InlineData("Aggregating", 0)]
    [InlineData("Aggregating", 2)]
    [InlineData("LlmTeacherLogits", 2)]
    [InlineData("SlmDistillation", 0)]
    [InlineData("SlmTeacherLogits", 2)]
    [InlineData("LlmDistillation", 0)]
    public void A_single_output_step_with_another_output_count_is_rejected(string name, int outputs)
    {
        var phase = new RoundPhase(name);
        var f = Federation.InRound1().RunTo(1, phase);

        var d = f.Send(new CompleteStep(1, phase, Result(Enumerable.Range(0, outputs).Select(i => Blobs.Named($"o{i}")).ToArray())));

        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Contains("1 output(s)", d.Detail);
        Assert.Equal(phase, f.State.Phase);
    }

    [Fact]
    public void A_step_result_for_client_training_is_rejected_because_it_has_no_server_step()
    {
        var f = Federation.InRound1();

        var d = f.Send(Output(1, RoundPhase.ClientsTraining));

        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Empty(d.Events);
    }

    [Fact]
    public void A_broadcast_record_for_another_round_is_late()
    {
        var f = Federation.InRound1().RunTo(2, RoundPhase.SlmBroadcast);

        var d = f.Send(new RecordBroadcast(1, Specs.Clients));

        Assert.Equal(Outcome.Late, d.Outcome);
        Assert.Empty(d.Events);
    }

    [Fact]
    public void A_broadcast_record_after_the_broadcast_phase_is_late()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.SlmTeacherLogits);

        var d = f.Send(new RecordBroadcast(1, Specs.Clients));

        Assert.Equal(Outcome.Late, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Equal(RoundPhase.SlmTeacherLogits, f.State.Phase);
    }
}

using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;
using static FedCoLLM.Actors.Tests.Rounds.Commands;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>The Centralized plan (the upper reference): one "client" holding the pooled data trains the SLM, and the
/// server fine-tunes the LLM on the same pooled data; no distillation.</summary>
public class CentralizedRoundTests
{
    static readonly JobSpec Spec = Specs.Default with { ClientIds = ["pooled"], MinUpdates = 1, Phases = new CentralizedStrategy().Phases };

    [Fact]
    public void Centralized_plan_is_valid_and_fine_tunes_the_LLM_after_the_broadcast()
    {
        PhasePlan.Validate(new CentralizedStrategy().Phases);
        var f = Federation.InRound1(Spec).RunTo(1, RoundPhase.SlmBroadcast);
        f.Send(new RecordBroadcast(1, ["pooled"]));

        Assert.Equal(RoundPhase.LlmFineTuning, f.State.Phase);
    }

    [Fact]
    public void LLM_fine_tuning_starts_from_the_round_LLM_and_takes_no_teacher_logits()
    {
        var f = Federation.InRound1(Spec).RunTo(1, RoundPhase.LlmFineTuning);

        var step = Assert.IsType<RunServerStep>(f.State.NextWork());
        Assert.Equal([Blobs.InitialLlm], step.Request.Inputs);
        Assert.Equal(RoundPhase.LlmFineTuning, step.Request.Phase);
    }

    [Fact]
    public void Centralized_commits_the_trained_SLM_and_the_fine_tuned_LLM()
    {
        var f = Federation.InRound1(Spec).RunTo(1, RoundPhase.Evaluating);
        f.Send(Evaluated(1));

        Assert.Equal((Blobs.Output(1, RoundPhase.Aggregating), Blobs.Output(1, RoundPhase.LlmFineTuning)), (f.State.GlobalSlm, f.State.GlobalLlm));
    }

    [Fact]
    public void Round_two_fine_tunes_the_LLM_committed_in_round_one()
    {
        var f = Federation.InRound1(Spec).RunTo(2, RoundPhase.LlmFineTuning);

        var step = Assert.IsType<RunServerStep>(f.State.NextWork());
        Assert.Equal([Blobs.Output(1, RoundPhase.LlmFineTuning)], step.Request.Inputs);
    }

    [Fact]
    public void A_Centralized_job_never_enters_a_distillation_phase_and_replays_to_the_same_state()
    {
        var f = Federation.Started(Spec).RunToEnd();

        Assert.Equal(RoundPhase.Completed, f.State.Phase);
        Assert.DoesNotContain(f.Journal.OfType<PhaseCompleted>(), p => new[] { RoundPhase.SlmDistillation, RoundPhase.LlmDistillation,
            RoundPhase.LlmTeacherLogits, RoundPhase.SlmTeacherLogits }.Contains(p.Phase));
        Assert.Equal(2, f.Journal.OfType<PhaseCompleted>().Count(p => p.Phase == RoundPhase.LlmFineTuning));
        Assert.Equal(f.State.History.Select(h => h.Llm), f.Replayed().History.Select(h => h.Llm));
    }

    [Fact]
    public void A_one_client_FedAvg_job_is_Standalone_training_its_update_is_the_round_SLM_input_to_aggregation()
    {
        var f = Federation.InRound1(Specs.FedAvg with { ClientIds = ["alice"], MinUpdates = 1 }).RunTo(1, RoundPhase.Aggregating);

        var work = Assert.IsType<RunAggregation>(f.State.NextWork());
        Assert.Equal([Blobs.Update(1, "alice")], work.Request.Inputs);
    }
}

using FedCoLLM.Actors.Rounds;
using static FedCoLLM.Actors.Tests.Rounds.Commands;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>The side effect each phase asks the actor for, with the inputs and seed it must use.</summary>
public class NextWorkTests
{
    static StepRequest ServerStep(Federation f)
    {
        var step = Assert.IsType<RunServerStep>(f.State.NextWork());
        Assert.Equal((Specs.Default.JobId, f.State.Round, f.State.Phase), (step.Request.JobId, step.Request.Round, step.Request.Phase));
        Assert.Equal(StepSeeds.For(Specs.Default.Seed, f.State.Round, f.State.Phase), step.Request.Seed);
        Assert.Null(step.Request.ClientId);
        return step.Request;
    }

    [Fact]
    public void Without_a_job_there_is_nothing_to_do()
    {
        Assert.Same(RoundWork.Nothing, RoundState.Empty.NextWork());
    }

    [Fact]
    public void Initializing_runs_the_round_0_step_without_inputs()
    {
        var f = Federation.Started();

        var step = Assert.IsType<RunServerStep>(f.State.NextWork()).Request;

        Assert.Equal((0, RoundPhase.Initializing), (step.Round, step.Phase));
        Assert.Empty(step.Inputs);
        Assert.Equal(StepSeeds.For(42, 0, RoundPhase.Initializing), step.Seed);
    }

    [Fact]
    public void Client_training_collects_updates_from_every_client_on_the_global_SLM_until_the_deadline()
    {
        var f = Federation.InRound1();

        var collect = Assert.IsType<CollectUpdates>(f.State.NextWork());

        Assert.Equal((1, 1, Blobs.InitialSlm), (collect.Round, collect.Attempt, collect.GlobalSlm));
        Assert.Equal(Specs.Clients, f.State.Waiting);
        Assert.Equal(Specs.Clients.Length, f.State.WaitingCount);
        Assert.All(Specs.Clients, c => Assert.True(f.State.IsWaitingFor(c)));
        Assert.False(f.State.IsWaitingFor("mallory"));
        Assert.Equal(f.State.ClientDeadline, collect.Deadline);
    }

    [Fact]
    public void Client_training_stops_asking_clients_that_already_answered()
    {
        var f = Federation.InRound1().Given(Update(1, "alice"));

        Assert.IsType<CollectUpdates>(f.State.NextWork());
        Assert.Equal(["bob", "carol"], f.State.Waiting);
        Assert.Equal(2, f.State.WaitingCount);
        Assert.False(f.State.IsWaitingFor("alice"));
        Assert.True(f.State.IsWaitingFor("bob"));
    }

    [Fact]
    public void A_retried_round_collects_again_under_its_new_attempt()
    {
        var f = Federation.InRound1().Given(new CloseTraining(1, 1));

        var collect = Assert.IsType<CollectUpdates>(f.State.NextWork());

        Assert.Equal((1, 2), (collect.Round, collect.Attempt));
        Assert.Equal(f.State.ClientDeadline, collect.Deadline);
    }

    [Fact]
    public void Round_2_training_starts_from_the_SLM_round_1_committed()
    {
        var f = Federation.InRound1().RunTo(2, RoundPhase.ClientsTraining);

        Assert.Equal(Blobs.Output(1, RoundPhase.SlmDistillation), Assert.IsType<CollectUpdates>(f.State.NextWork()).GlobalSlm);
    }

    [Fact]
    public void Aggregating_runs_FedAvg_over_every_update_with_its_sample_count()
    {
        var f = Federation.InRound1().Given(Update(1, "carol", samples: 3), Update(1, "alice", samples: 1), Update(1, "bob", samples: 2));

        var request = Assert.IsType<RunAggregation>(f.State.NextWork()).Request;

        Assert.Equal((1, RoundPhase.Aggregating), (request.Round, request.Phase));
        Assert.Equal([Blobs.Update(1, "alice"), Blobs.Update(1, "bob"), Blobs.Update(1, "carol")], request.Inputs);
        Assert.Equal([1L, 2L, 3L], request.SampleCounts!);
        Assert.Equal(StepSeeds.For(42, 1, RoundPhase.Aggregating), request.Seed);
    }

    [Fact]
    public void LLM_teacher_logits_are_computed_with_the_global_LLM()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.LlmTeacherLogits);

        Assert.Equal([Blobs.InitialLlm], ServerStep(f).Inputs);
    }

    [Fact]
    public void SLM_distillation_trains_the_aggregated_SLM_on_the_LLM_teacher_logits()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.SlmDistillation);

        Assert.Equal([Blobs.Output(1, RoundPhase.Aggregating), Blobs.Output(1, RoundPhase.LlmTeacherLogits)], ServerStep(f).Inputs);
    }

    [Fact]
    public void The_broadcast_sends_the_distilled_SLM()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.SlmBroadcast);

        Assert.Equal(new BroadcastSlm(1, Blobs.Output(1, RoundPhase.SlmDistillation), Final: false), f.State.NextWork());
    }

    [Fact]
    public void The_last_rounds_broadcast_is_the_final_download_every_client_reports()
    {
        var f = Federation.InRound1().RunTo(2, RoundPhase.SlmBroadcast);

        Assert.Equal(new BroadcastSlm(2, Blobs.Output(2, RoundPhase.SlmDistillation), Final: true), f.State.NextWork());
    }

    [Fact]
    public void SLM_teacher_logits_are_computed_with_the_distilled_SLM()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.SlmTeacherLogits);

        Assert.Equal([Blobs.Output(1, RoundPhase.SlmDistillation)], ServerStep(f).Inputs);
    }

    [Fact]
    public void LLM_distillation_trains_the_global_LLM_on_the_SLM_teacher_logits()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.LlmDistillation);

        Assert.Equal([Blobs.InitialLlm, Blobs.Output(1, RoundPhase.SlmTeacherLogits)], ServerStep(f).Inputs);
    }

    [Fact]
    public void Evaluation_scores_the_distilled_SLM_and_LLM()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.Evaluating);

        Assert.Equal([Blobs.Output(1, RoundPhase.SlmDistillation), Blobs.Output(1, RoundPhase.LlmDistillation)], ServerStep(f).Inputs);
    }

    [Fact]
    public void FedAvg_evaluation_scores_the_aggregated_SLM_and_the_untouched_LLM()
    {
        var f = Federation.InRound1(Specs.FedAvg).RunTo(1, RoundPhase.Evaluating);

        Assert.Equal([Blobs.Output(1, RoundPhase.Aggregating), Blobs.InitialLlm], ServerStep(f).Inputs);
    }

    [Fact]
    public void A_completed_job_has_nothing_left_to_do()
    {
        Assert.Same(RoundWork.Nothing, Federation.InRound1().RunToEnd().State.NextWork());
    }
}

using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;
using static FedCoLLM.Actors.Tests.Rounds.Commands;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>The FedCoLLM plan, phase by phase, and which adapter each phase leaves behind.</summary>
public class FedCoLLMRoundTests
{
    [Fact]
    public void A_new_state_has_no_job_and_is_not_running()
    {
        Assert.Null(RoundState.Empty.Job);
        Assert.Equal(RoundPhase.NotStarted, RoundState.Empty.Phase);
        Assert.False(RoundState.Empty.IsRunning);
    }

    [Fact]
    public void Starting_a_job_records_the_spec_and_moves_to_Initializing()
    {
        var f = new Federation();
        var d = f.Send(new StartJob(Specs.Default));

        var started = Assert.IsType<JobStarted>(Assert.Single(d.Events));
        Assert.Equal(Outcome.Accepted, d.Outcome);
        Assert.Same(Specs.Default, started.Spec);
        Assert.Equal(Federation.T0, started.At);
        Assert.Equal(RoundPhase.Initializing, f.State.Phase);
        Assert.Equal(0, f.State.Round);
        Assert.True(f.State.IsRunning);
    }

    [Fact]
    public void Initialized_adapters_become_global_and_open_round_1_attempt_1()
    {
        var f = Federation.Started();
        var d = f.Send(Initialized());

        var init = Assert.IsType<AdaptersInitialized>(Assert.Single(d.Events));
        Assert.Equal((Blobs.InitialSlm, Blobs.InitialLlm), (init.Slm, init.Llm));
        Assert.Equal(RoundPhase.ClientsTraining, f.State.Phase);
        Assert.Equal((1, 1), (f.State.Round, f.State.Attempt));
        Assert.Equal((Blobs.InitialSlm, Blobs.InitialLlm), (f.State.GlobalSlm, f.State.GlobalLlm));
        Assert.Equal((Blobs.InitialSlm, Blobs.InitialLlm), (f.State.Slm, f.State.Llm));
        Assert.Equal(Specs.Clients, f.State.Waiting);
    }

    [Fact]
    public void A_client_update_is_recorded_and_the_round_keeps_waiting_for_the_others()
    {
        var f = Federation.InRound1();
        var d = f.Send(Update(1, "bob", samples: 7, loss: 0.25));

        var accepted = Assert.IsType<ClientUpdateAccepted>(Assert.Single(d.Events));
        Assert.Equal(("bob", Blobs.Update(1, "bob"), 7L), (accepted.ClientId, accepted.Update, accepted.SampleCount));
        Assert.Equal(RoundPhase.ClientsTraining, f.State.Phase);
        Assert.Equal(new AcceptedUpdate(Blobs.Update(1, "bob"), 7, 0.25), f.State.Updates["bob"]);
        Assert.Equal(["alice", "carol"], f.State.Waiting);
    }

    [Fact]
    public void A_client_train_loss_lands_in_the_round_metrics()
    {
        var f = Federation.InRound1().Given(Update(1, "bob", loss: 0.25));

        Assert.Equal(0.25, f.State.RoundMetrics["client/bob/train_loss"]);
    }

    [Fact]
    public void Last_client_update_moves_the_round_to_aggregation()
    {
        var f = Federation.InRound1().Given(Update(1, "alice"), Update(1, "carol"));
        f.Send(Update(1, "bob"));

        Assert.Equal(RoundPhase.Aggregating, f.State.Phase);
        Assert.Empty(f.State.Missing);
        Assert.Null(f.State.ClientDeadline);
        Assert.Empty(f.State.Waiting);
    }

    [Fact]
    public void Aggregated_adapter_becomes_the_round_SLM_and_LLM_teacher_logits_come_next()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.Aggregating);
        var d = f.Send(Output(1, RoundPhase.Aggregating));

        var done = Assert.IsType<PhaseCompleted>(Assert.Single(d.Events));
        Assert.Equal((RoundPhase.Aggregating, Blobs.Output(1, RoundPhase.Aggregating)), (done.Phase, done.Output));
        Assert.Equal(RoundPhase.LlmTeacherLogits, f.State.Phase);
        Assert.Equal(Blobs.Output(1, RoundPhase.Aggregating), f.State.Slm);
        Assert.Equal(Blobs.InitialSlm, f.State.GlobalSlm);
        Assert.Equal(Blobs.InitialLlm, f.State.Llm);
    }

    [Fact]
    public void LLM_teacher_logits_are_kept_and_SLM_distillation_comes_next()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.LlmTeacherLogits);
        f.Send(Output(1, RoundPhase.LlmTeacherLogits));

        Assert.Equal(RoundPhase.SlmDistillation, f.State.Phase);
        Assert.Equal(Blobs.Output(1, RoundPhase.LlmTeacherLogits), f.State.Slots.GetValueOrDefault(Slots.LlmLogits));
        Assert.Equal(Blobs.Output(1, RoundPhase.Aggregating), f.State.Slm);
    }

    [Fact]
    public void Distilled_SLM_replaces_the_aggregated_one_and_is_broadcast_next()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.SlmDistillation);
        f.Send(Output(1, RoundPhase.SlmDistillation));

        Assert.Equal(RoundPhase.SlmBroadcast, f.State.Phase);
        Assert.Equal(Blobs.Output(1, RoundPhase.SlmDistillation), f.State.Slm);
    }

    [Fact]
    public void Recorded_broadcast_names_the_distilled_SLM_and_its_recipients_in_ordinal_order()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.SlmBroadcast);
        var d = f.Send(new RecordBroadcast(1, ["carol", "alice"]));

        var broadcast = Assert.IsType<SlmBroadcast>(Assert.Single(d.Events));
        Assert.Equal(Blobs.Output(1, RoundPhase.SlmDistillation), broadcast.Slm);
        Assert.Equal(["alice", "carol"], broadcast.Recipients);
        Assert.Equal(RoundPhase.SlmTeacherLogits, f.State.Phase);
    }

    [Fact]
    public void SLM_teacher_logits_are_kept_and_LLM_distillation_comes_next()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.SlmTeacherLogits);
        f.Send(Output(1, RoundPhase.SlmTeacherLogits));

        Assert.Equal(RoundPhase.LlmDistillation, f.State.Phase);
        Assert.Equal(Blobs.Output(1, RoundPhase.SlmTeacherLogits), f.State.Slots.GetValueOrDefault(Slots.SlmLogits));
    }

    [Fact]
    public void Distilled_LLM_replaces_the_global_one_in_the_round_and_evaluation_comes_next()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.LlmDistillation);
        f.Send(Output(1, RoundPhase.LlmDistillation));

        Assert.Equal(RoundPhase.Evaluating, f.State.Phase);
        Assert.Equal(Blobs.Output(1, RoundPhase.LlmDistillation), f.State.Llm);
        Assert.Equal(Blobs.InitialLlm, f.State.GlobalLlm);
    }

    [Fact]
    public void Evaluation_commits_the_distilled_SLM_and_LLM_as_the_global_adapters()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.Evaluating);
        var d = f.Send(Evaluated(1));

        var commit = Assert.IsType<RoundCommitted>(Assert.Single(d.Events));
        var slm = Blobs.Output(1, RoundPhase.SlmDistillation);
        var llm = Blobs.Output(1, RoundPhase.LlmDistillation);
        Assert.Equal((1, slm, llm), (commit.Round, commit.Slm, commit.Llm));
        Assert.Equal((slm, llm), (f.State.GlobalSlm, f.State.GlobalLlm));
    }

    [Fact]
    public void Committing_a_round_adds_it_to_the_history_with_its_participants()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.Evaluating);
        f.Send(Evaluated(1));

        var record = Assert.Single(f.State.History);
        Assert.Equal((1, 1), (record.Round, record.Attempt));
        Assert.Equal(Specs.Clients, record.Participants);
        Assert.Empty(record.Missing);
        Assert.Equal((Blobs.Output(1, RoundPhase.SlmDistillation), Blobs.Output(1, RoundPhase.LlmDistillation)), (record.Slm, record.Llm));
        Assert.Equal(f.Journal[^1].At, record.At);
    }

    [Fact]
    public void Committed_round_metrics_gather_train_losses_phase_metrics_and_evaluation()
    {
        var f = Federation.InRound1()
            .Given(Update(1, "alice", loss: 1.0), Update(1, "bob", loss: 2.0), Update(1, "carol", loss: 3.0))
            .Given(new CompleteStep(1, RoundPhase.Aggregating, Result(Blobs.Output(1, RoundPhase.Aggregating), "agg/clients", 3)))
            .RunTo(1, RoundPhase.SlmDistillation)
            .Given(new CompleteStep(1, RoundPhase.SlmDistillation, Result(Blobs.Output(1, RoundPhase.SlmDistillation), "kd/slm_loss", 0.7)))
            .RunTo(1, RoundPhase.Evaluating)
            .Given(Evaluated(1, slmAccuracy: 0.61));

        Assert.Equal(
            "agg/clients=3, client/alice/train_loss=1, client/bob/train_loss=2, client/carol/train_loss=3, eval/slm_accuracy=0.61, kd/slm_loss=0.7",
            Describe.Metrics(Assert.Single(f.State.History).Metrics));
    }

    [Fact]
    public void Committing_a_round_opens_the_next_one_from_the_committed_adapters()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.Evaluating);
        f.Send(Evaluated(1));

        var s = f.State;
        Assert.Equal(RoundPhase.ClientsTraining, s.Phase);
        Assert.Equal((2, 1), (s.Round, s.Attempt));
        Assert.Equal((s.GlobalSlm, s.GlobalLlm), (s.Slm, s.Llm));
        Assert.Null(s.Slots.GetValueOrDefault(Slots.LlmLogits));
        Assert.Null(s.Slots.GetValueOrDefault(Slots.SlmLogits));
        Assert.Empty(s.Updates);
        Assert.Empty(s.RoundMetrics);
        Assert.Equal(Specs.Clients, s.Waiting);
    }

    [Fact]
    public void Committing_the_last_round_completes_the_job()
    {
        var f = Federation.InRound1().RunTo(2, RoundPhase.Evaluating);
        f.Send(Evaluated(2));

        var s = f.State;
        Assert.Equal(RoundPhase.Completed, s.Phase);
        Assert.False(s.IsRunning);
        Assert.Equal([1, 2], s.History.Select(h => h.Round));
        Assert.Equal((Blobs.Output(2, RoundPhase.SlmDistillation), Blobs.Output(2, RoundPhase.LlmDistillation)), (s.GlobalSlm, s.GlobalLlm));
        Assert.Null(s.Slm);
        Assert.Null(s.Llm);
        Assert.Empty(s.Updates);
        Assert.Empty(s.RoundMetrics);
    }

    [Fact]
    public void Round_2_distills_from_the_adapters_round_1_committed()
    {
        var f = Federation.InRound1().RunTo(2, RoundPhase.LlmTeacherLogits);

        var step = Assert.IsType<RunServerStep>(f.State.NextWork());
        Assert.Equal([Blobs.Output(1, RoundPhase.LlmDistillation)], step.Request.Inputs);
    }

    [Fact]
    public void A_two_round_job_visits_every_phase_of_the_plan_in_order()
    {
        var f = Federation.Started();
        var visited = new List<(int, RoundPhase)> { (f.State.Round, f.State.Phase) };
        while (f.State.IsRunning)
        {
            f.CompletePhase();
            visited.Add((f.State.Round, f.State.Phase));
        }

        RoundPhase[] round = [.. new FedCoLLMStrategy().Phases.Select(p => p.Name)];
        Assert.Equal(
            [(0, RoundPhase.Initializing), .. round.Select(p => (1, p)), .. round.Select(p => (2, p)), (2, RoundPhase.Completed)],
            visited);
    }

    [Fact]
    public void The_FedCoLLM_plan_is_the_default()
    {
        Assert.Equal(
            [RoundPhase.ClientsTraining, RoundPhase.Aggregating, RoundPhase.LlmTeacherLogits, RoundPhase.SlmDistillation,
             RoundPhase.SlmBroadcast, RoundPhase.SlmTeacherLogits, RoundPhase.LlmDistillation, RoundPhase.Evaluating],
            Specs.Default.Phases.Select(p => p.Name));
    }

    [Fact]
    public void Failing_a_running_job_stops_it_with_the_reason()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.SlmDistillation);
        var d = f.Send(new FailJob("distillation ran out of memory"));

        Assert.IsType<JobFailed>(Assert.Single(d.Events));
        Assert.Equal(RoundPhase.Failed, f.State.Phase);
        Assert.Equal("distillation ran out of memory", f.State.FailureReason);
        Assert.False(f.State.IsRunning);
        Assert.Same(RoundWork.Nothing, f.State.NextWork());
    }

    [Fact]
    public void Failing_a_job_that_already_completed_is_late()
    {
        var f = Federation.InRound1().RunToEnd();
        var d = f.Send(new FailJob("too late"));

        Assert.Equal(Outcome.Late, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Equal(RoundPhase.Completed, f.State.Phase);
    }
}

using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>JobSpec.Validate and RoundPlans.Validate: every refusal names the field to fix.</summary>
public class JobSpecTests
{
    static ArgumentException Invalid(JobSpec spec) => Assert.Throws<ArgumentException>(() => spec.Validate());

    [Fact]
    public void A_valid_spec_validates_to_itself()
    {
        Assert.Same(Specs.Default, Specs.Default.Validate());
        Assert.Same(Specs.FedAvg, Specs.FedAvg.Validate());
    }

    [Fact]
    public void Defaults_are_the_FedCoLLM_plan_a_quorum_of_one_ten_minutes_and_three_attempts()
    {
        var spec = new JobSpec { JobId = "j", ClientIds = ["a"], Rounds = 1, Seed = 0 };

        Assert.Same(RoundPlans.FedCoLLM, spec.Phases);
        Assert.Equal(1, spec.MinUpdates);
        Assert.Equal(TimeSpan.FromMinutes(10), spec.ClientTimeout);
        Assert.Equal(3, spec.MaxRoundAttempts);
        spec.Validate();
    }

    [Fact]
    public void Client_ids_are_kept_in_ordinal_order()
    {
        var spec = Specs.Default with { ClientIds = ["b", "a", "B", "_", "A"] };

        Assert.Equal(["A", "B", "_", "a", "b"], spec.ClientIds);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("job 1")]
    [InlineData("runs/job")]
    [InlineData("runs\\job")]
    [InlineData("jöb")]
    [InlineData("job:1")]
    public void A_job_id_with_other_than_letters_digits_dash_underscore_or_dot_is_refused(string jobId)
    {
        var ex = Invalid(Specs.Default with { JobId = jobId });

        Assert.Equal("JobId", ex.ParamName);
        Assert.Contains($"\"{jobId}\"", ex.Message);
    }

    [Theory]
    [InlineData("job-1")]
    [InlineData("Job_2.v3")]
    public void A_job_id_of_letters_digits_dash_underscore_and_dot_is_accepted(string jobId)
    {
        (Specs.Default with { JobId = jobId }).Validate();
    }

    [Fact]
    public void A_spec_without_clients_is_refused()
    {
        var ex = Invalid(Specs.Default with { ClientIds = [], MinUpdates = 1 });

        Assert.Equal("ClientIds", ex.ParamName);
    }

    [Fact]
    public void A_spec_naming_a_client_twice_is_refused_listing_the_clients()
    {
        var ex = Invalid(Specs.Default with { ClientIds = ["alice", "bob", "alice"] });

        Assert.Equal("ClientIds", ex.ParamName);
        Assert.Contains("[alice, alice, bob]", ex.Message);
    }

    [Fact]
    public void A_spec_with_a_blank_client_id_is_refused()
    {
        var ex = Invalid(Specs.Default with { ClientIds = ["alice", " "] });

        Assert.Equal("ClientIds", ex.ParamName);
    }

    [Fact]
    public void A_job_without_rounds_is_refused()
    {
        Assert.Equal("Rounds", Invalid(Specs.Default with { Rounds = 0 }).ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void A_quorum_outside_one_to_the_client_count_is_refused(int minUpdates)
    {
        var ex = Invalid(Specs.Default with { MinUpdates = minUpdates });

        Assert.Equal("MinUpdates", ex.ParamName);
        Assert.Contains("the 3 clients", ex.Message);
    }

    [Fact]
    public void A_quorum_of_every_client_is_accepted()
    {
        (Specs.Default with { MinUpdates = 3 }).Validate();
    }

    [Fact]
    public void A_non_positive_client_timeout_is_refused()
    {
        Assert.Equal("ClientTimeout", Invalid(Specs.Default with { ClientTimeout = TimeSpan.Zero }).ParamName);
    }

    [Fact]
    public void Zero_round_attempts_are_refused()
    {
        Assert.Equal("MaxRoundAttempts", Invalid(Specs.Default with { MaxRoundAttempts = 0 }).ParamName);
    }

    [Fact]
    public void A_plan_distilling_the_SLM_before_the_LLM_teacher_logits_exist_is_refused()
    {
        var ex = Invalid(Specs.Default with
        {
            Phases = [RoundPhase.ClientsTraining, RoundPhase.Aggregating, RoundPhase.SlmDistillation, RoundPhase.LlmTeacherLogits, RoundPhase.Evaluating],
        });

        Assert.Equal("Phases", ex.ParamName);
        Assert.Contains("SlmDistillation needs LlmTeacherLogits before it", ex.Message);
    }

    [Fact]
    public void A_plan_distilling_the_LLM_without_SLM_teacher_logits_is_refused()
    {
        var ex = Invalid(Specs.Default with
        {
            Phases = [RoundPhase.ClientsTraining, RoundPhase.Aggregating, RoundPhase.LlmDistillation, RoundPhase.Evaluating],
        });

        Assert.Equal("Phases", ex.ParamName);
        Assert.Contains("LlmDistillation needs SlmTeacherLogits before it", ex.Message);
    }

    public static TheoryData<RoundPhase[]> MalformedPlans => new()
    {
        new[] { RoundPhase.Aggregating, RoundPhase.ClientsTraining, RoundPhase.Evaluating },
        new[] { RoundPhase.ClientsTraining, RoundPhase.Aggregating },
        new[] { RoundPhase.ClientsTraining },
        new[] { RoundPhase.ClientsTraining, RoundPhase.Aggregating, RoundPhase.Aggregating, RoundPhase.Evaluating },
        new[] { RoundPhase.ClientsTraining, RoundPhase.Completed, RoundPhase.Evaluating },
        new[] { RoundPhase.ClientsTraining, RoundPhase.Initializing, RoundPhase.Evaluating },
    };

    [Theory]
    [MemberData(nameof(MalformedPlans))]
    public void A_plan_that_does_not_run_training_first_evaluation_last_and_each_round_phase_once_is_refused(RoundPhase[] plan)
    {
        Assert.Equal("Phases", Invalid(Specs.Default with { Phases = plan }).ParamName);
    }

    [Fact]
    public void Training_then_evaluation_is_the_smallest_valid_plan()
    {
        RoundPlans.Validate([RoundPhase.ClientsTraining, RoundPhase.Evaluating]);
    }
}

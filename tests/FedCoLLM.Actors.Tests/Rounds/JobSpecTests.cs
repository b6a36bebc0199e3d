using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>JobSpec.Validate and PhasePlan.Validate: every refusal names the field to fix.</summary>
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

        Assert.Equal(new FedCoLLMStrategy().Phases, spec.Phases);
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

    /// <summary>A plan of the shipped strategies' phases, by name (lifecycle names as an evaluate phase, to be refused).</summary>
    static PhasePlan[] Plan(params RoundPhase[] names)
    {
        PhasePlan[] known = [.. new FedCoLLMStrategy().Phases, .. new CentralizedStrategy().Phases.Where(p => p.Name == RoundPhase.LlmFineTuning)];
        return names.Select(n => known.FirstOrDefault(p => p.Name == n) ?? new PhasePlan(n, PhaseRunner.Server, Operations.Evaluate, [Slots.Slm, Slots.Llm], [])).ToArray();
    }

    [Fact]
    public void A_plan_distilling_the_SLM_before_the_LLM_teacher_logits_exist_is_refused()
    {
        var ex = Invalid(Specs.Default with
        {
            Phases = Plan(RoundPhase.ClientsTraining, RoundPhase.Aggregating, RoundPhase.SlmDistillation, RoundPhase.LlmTeacherLogits, RoundPhase.Evaluating),
        });

        Assert.Equal("Phases", ex.ParamName);
        Assert.Contains("SlmDistillation consumes \"llm-logits\", which no earlier phase produces", ex.Message);
    }

    [Fact]
    public void A_plan_distilling_the_LLM_without_SLM_teacher_logits_is_refused()
    {
        var ex = Invalid(Specs.Default with
        {
            Phases = Plan(RoundPhase.ClientsTraining, RoundPhase.Aggregating, RoundPhase.LlmDistillation, RoundPhase.Evaluating),
        });

        Assert.Equal("Phases", ex.ParamName);
        Assert.Contains("LlmDistillation consumes \"slm-logits\"", ex.Message);
    }

    [Fact]
    public void A_phase_whose_runner_does_not_match_its_operation_is_refused()
    {
        var ex = Invalid(Specs.Default with
        {
            Phases = [new(RoundPhase.Aggregating, PhaseRunner.Server, Operations.FedAvg, [Slots.Updates], [Slots.Slm]), .. Plan(RoundPhase.Evaluating)],
        });

        Assert.Contains("fedavg runs on Aggregator, not Server", ex.Message);
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
    public void A_plan_that_consumes_before_producing_does_not_end_with_evaluation_or_repeats_a_phase_is_refused(RoundPhase[] plan)
    {
        Assert.Equal("Phases", Invalid(Specs.Default with { Phases = Plan(plan) }).ParamName);
    }

    [Fact]
    public void Training_then_evaluation_and_evaluation_alone_are_valid_plans()
    {
        PhasePlan.Validate(Plan(RoundPhase.ClientsTraining, RoundPhase.Evaluating));
        PhasePlan.Validate(Plan(RoundPhase.Evaluating));
    }
}

using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>Starting (and resuming) a job: the journal's spec is the only spec.</summary>
public class StartJobTests
{
    [Fact]
    public void Starting_again_with_an_equal_spec_is_a_duplicate()
    {
        var f = Federation.InRound1().RunTo(1, RoundPhase.SlmDistillation);
        var before = f.State;
        var sameSettings = Specs.Default with { ClientIds = ["carol", "bob", "alice"] };

        var d = f.Send(new StartJob(sameSettings));

        Assert.Equal(Outcome.Duplicate, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Same(before, f.State);
        Assert.Contains("round 1", d.Detail);
    }

    public static TheoryData<string, JobSpec> ChangedSpecs => new()
    {
        { "id", Specs.Default with { JobId = "job-2" } },
        { "clients.enrolled", Specs.Default with { ClientIds = ["alice", "bob"] } },
        { "rounds", Specs.Default with { Rounds = 3 } },
        { "seed", Specs.Default with { Seed = 43 } },
        { "the strategy's phases", Specs.Default with { Phases = new FedAvgStrategy().Phases } },
        { "clients.quorum", Specs.Default with { MinUpdates = 1 } },
        { "deadlines.client-training", Specs.Default with { ClientTimeout = TimeSpan.FromMinutes(5) } },
        { "deadlines.max-round-attempts", Specs.Default with { MaxRoundAttempts = 5 } },
        { "distillation.temperature", Specs.Default with { Definition = Specs.DefinitionWithTemperature(2) } },
    };

    [Theory]
    [MemberData(nameof(ChangedSpecs))]
    public void Starting_again_with_a_different_spec_is_rejected_naming_the_differing_field(string field, JobSpec changed)
    {
        var f = Federation.InRound1();
        var before = f.State;

        var d = f.Send(new StartJob(changed));

        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Empty(d.Events);
        Assert.Contains(field + " (", d.Detail);
        Assert.Same(before, f.State);
    }

    [Fact]
    public void Starting_again_after_the_job_completed_is_a_duplicate_not_a_new_run()
    {
        var f = Federation.InRound1().RunToEnd();

        var d = f.Send(new StartJob(Specs.Default));

        Assert.Equal(Outcome.Duplicate, d.Outcome);
        Assert.Equal(RoundPhase.Completed, f.State.Phase);
    }

    [Fact]
    public void Starting_with_an_invalid_spec_throws_naming_the_field()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            RoundState.Empty.Decide(new StartJob(Specs.Default with { Rounds = 0 }), Federation.T0));

        Assert.Equal("Rounds", ex.ParamName);
    }

    [Fact]
    public void Specs_with_the_same_settings_have_no_first_difference()
    {
        Assert.Null(Specs.Default.FirstDifference(Specs.Default with { ClientIds = ["carol", "alice", "bob"] }));
    }

    [Fact]
    public void A_changed_job_definition_is_explained_by_its_first_differing_key()
    {
        var diff = Specs.Default.FirstDifference(Specs.Default with { Definition = Specs.DefinitionWithTemperature(2) });

        Assert.Equal("distillation.temperature (1 vs 2)", diff);
    }
}

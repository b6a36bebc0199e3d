using System.Globalization;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>Step seeds are a stable hash: every process, every run, every .NET version computes the same one.</summary>
public class StepSeedsTests
{
    // Golden values: SHA-256 of "42/1/Aggregating/" and "42/1/ClientsTraining/alice", first 8 bytes little-endian, sign bit cleared.
    // If these change, every journal's recorded steps stop reproducing: do not update them casually.
    [Fact]
    public void The_seed_of_a_server_step_is_a_fixed_golden_value()
    {
        Assert.Equal(689144084312208219L, StepSeeds.For(42, 1, RoundPhase.Aggregating));
    }

    [Fact]
    public void The_seed_of_a_client_step_is_a_fixed_golden_value()
    {
        Assert.Equal(1392503327201301599L, StepSeeds.For(42, 1, RoundPhase.ClientsTraining, "alice"));
    }

    [Fact]
    public void The_seed_differs_by_job_seed()
    {
        Assert.NotEqual(StepSeeds.For(42, 1, RoundPhase.Aggregating), StepSeeds.For(43, 1, RoundPhase.Aggregating));
    }

    [Fact]
    public void The_seed_differs_by_round()
    {
        Assert.NotEqual(StepSeeds.For(42, 1, RoundPhase.Aggregating), StepSeeds.For(42, 2, RoundPhase.Aggregating));
    }

    [Fact]
    public void The_seed_differs_by_phase()
    {
        Assert.NotEqual(StepSeeds.For(42, 1, RoundPhase.SlmDistillation), StepSeeds.For(42, 1, RoundPhase.LlmDistillation));
    }

    [Fact]
    public void The_seed_differs_by_client()
    {
        Assert.NotEqual(StepSeeds.For(42, 1, RoundPhase.ClientsTraining, "alice"), StepSeeds.For(42, 1, RoundPhase.ClientsTraining, "bob"));
        Assert.NotEqual(StepSeeds.For(42, 1, RoundPhase.ClientsTraining, "alice"), StepSeeds.For(42, 1, RoundPhase.ClientsTraining));
    }

    [Fact]
    public void Seeds_are_never_negative()
    {
        var seeds = from seed in new long[] { long.MinValue, -1, 0, 42, long.MaxValue }
                    from round in Enumerable.Range(0, 20)
                    from phase in new FedCoLLMStrategy().Phases.Select(p => p.Name).Concat(RoundPhase.Lifecycle)
                    select StepSeeds.For(seed, round, phase);

        Assert.All(seeds, s => Assert.True(s >= 0));
    }

    [Fact]
    public void The_seed_does_not_depend_on_the_current_culture()
    {
        var minusSign = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        minusSign.NumberFormat.NegativeSign = "\u2212";
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = minusSign;
            // SHA-256 of "-7/1/Aggregating/", as every other process computes it.
            Assert.Equal(7390575275585064220L, StepSeeds.For(-7, 1, RoundPhase.Aggregating));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }
}

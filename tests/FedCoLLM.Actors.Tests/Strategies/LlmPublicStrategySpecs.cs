using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;
using FedCoLLM.Actors.Tests.Actors;

namespace FedCoLLM.Actors.Tests.Strategies;

/// <summary>Strategy llm-public (issue 16's "LLM on the public set alone") through the real actors, journal and learning
/// steps: no client enrolled, the LLM trained on the public set, the SLM committed exactly as initialised, both scored.</summary>
[Collection(FederationCollection.Name)]
public sealed class LlmPublicStrategySpecs
{
    [Fact]
    public async Task LLM_public_trains_only_the_LLM_without_clients_and_scores_both_models()
    {
        var strategy = StrategyCatalog.Get("llm-public");
        var spec = (Tiny.Spec("llm-public") with { ClientIds = [], Strategy = strategy.Name, Phases = strategy.Phases }).Validate();

        using var run = new RunDirectory();
        await using var node = TestNode.Start(run, spec.JobId, TestNode.RealRunner(run), []);
        Assert.Equal(Outcome.Accepted, (await node.StartJob(spec)).Outcome);
        var final = await node.WaitForEnd(spec.JobId, TimeSpan.FromSeconds(120));

        Assert.Equal(RoundPhase.Completed, final.Phase);
        var round = Assert.Single(final.History);
        var events = await node.JournalEvents(spec.JobId);
        Assert.Equal([RoundPhase.LlmFineTuning], events.OfType<PhaseCompleted>().Select(p => p.Phase));
        Assert.Empty(events.OfType<SlmBroadcast>());
        var initial = Assert.Single(events.OfType<AdaptersInitialized>());
        Assert.Equal(initial.Slm, round.Slm);
        // The LLM went through its public-set SFT (Tiny's single step is the warm-up's, at learning rate 0, so the adapter
        // bytes may not move here; AblationStepsTests checks that the step trains the LLM).
        Assert.Equal(1, round.Metrics["llm_public_sft_steps"]);
        Assert.True(double.IsFinite(round.Metrics["llm_public_sft_loss"]));
        Assert.Contains("slm/acc/noun.animal", round.Metrics.Keys);
        Assert.Contains("llm/acc/noun.animal", round.Metrics.Keys);
    }
}

using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;
using FedCoLLM.Actors.Tests.Actors;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Actors.Tests.Strategies;

/// <summary>A strategy defined here, not in the product, runs through the real actors, SQLite journal and blob store.</summary>
[Collection(FederationCollection.Name)]
public sealed class CustomStrategySpecs
{
    [Fact]
    public async Task A_strategy_registered_by_the_tests_runs_its_own_phases_end_to_end()
    {
        StrategyCatalog.Register(new OneWayDistillationStrategy());
        var strategy = StrategyCatalog.Get("one-way-distillation");
        var spec = Tiny.Spec("one-way") with { Strategy = strategy.Name, Phases = strategy.Phases, Rounds = 2 };

        using var run = new RunDirectory();
        await using var node = TestNode.Start(run, spec.JobId, TestNode.RealRunner(run), Tiny.TwoClients);
        Assert.Equal(Outcome.Accepted, (await node.StartJob(spec)).Outcome);
        var final = await node.WaitForEnd(spec.JobId, TimeSpan.FromSeconds(120));

        Assert.Equal(RoundPhase.Completed, final.Phase);
        Assert.Equal(2, final.History.Count);
        var events = await node.JournalEvents(spec.JobId);
        // Exactly the plan's server phases, each once per round, and never the LLM's distillation.
        Assert.Equal(
            [RoundPhase.Aggregating, RoundPhase.LlmTeacherLogits, RoundPhase.SlmDistillation, RoundPhase.Aggregating, RoundPhase.LlmTeacherLogits, RoundPhase.SlmDistillation],
            events.OfType<PhaseCompleted>().Select(p => p.Phase));
        Assert.Equal(2, events.OfType<SlmBroadcast>().Count());
        // The committed metrics come from the plan's steps: the SLM's distillation ran, the LLM's never did.
        Assert.All(final.History, h =>
        {
            Assert.Contains("slm_distill_loss", h.Metrics.Keys);
            Assert.DoesNotContain("llm_distill_loss", h.Metrics.Keys);
            // The LLM teacher pass reports its mass outside the top-k (a share of probability); no SLM teacher pass ran.
            Assert.InRange(h.Metrics[LearningStepRunner.LlmToSlmTeacherMass], 1e-9, 1.0);
            Assert.DoesNotContain(LearningStepRunner.SlmToLlmTeacherMass, h.Metrics.Keys);
        });
        // Every blob the journal names is in the node's store, verified by its content address.
        var store = new DirectoryBlobStore(run.Blobs);
        Assert.All(events.OfType<PhaseCompleted>(), p => Assert.True(store.Contains(p.Output!)));
    }

    [Fact]
    public void A_strategy_whose_plan_cannot_run_is_refused_at_registration()
    {
        var ex = Assert.Throws<ArgumentException>(() => StrategyCatalog.Register(new BrokenStrategy()));
        Assert.Contains("SlmDistillation consumes \"llm-logits\"", ex.Message);
    }

    sealed class BrokenStrategy : IStrategy
    {
        public string Name => "broken";

        public IReadOnlyList<PhasePlan> Phases { get; } =
        [
            new(RoundPhase.SlmDistillation, PhaseRunner.Server, Operations.DistillSlm, [Slots.Slm, Slots.LlmLogits], [Slots.Slm]),
            new(RoundPhase.Evaluating, PhaseRunner.Server, Operations.Evaluate, [Slots.Slm, Slots.Llm], []),
        ];
    }
}

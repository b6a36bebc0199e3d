using System.Text;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Strategies;

namespace FedCoLLM.Actors.Tests.Jobs;

/// <summary>Issue 16's ablations in the job file: <c>distillation.public-ce</c> (KD only) is journaled only when off, so
/// every existing job keeps its canonical bytes and hash; λ = 0 with the CE off is refused naming both keys; strategy
/// llm-public runs without clients and refuses the keys it would ignore.</summary>
public sealed class AblationJobFileTests : IDisposable
{
    static readonly string[] Strategies = [.. JobFixture.Strategies, JobFile.LlmPublic];

    readonly JobFixture fixture = new();

    public void Dispose() => fixture.Dispose();

    JobDefinition Parse(string extra = "") => JobFile.Parse(fixture.Text(extra), "tiny.conf", Strategies);

    JobFileException Refused(string extra) => Assert.Throws<JobFileException>(() => Parse(extra));

    [Fact]
    public void The_public_CE_is_on_by_default_and_not_in_the_canonical_bytes()
    {
        var job = Parse();
        Assert.True(job.Distillation.PublicCrossEntropy);
        Assert.True(job.ToSetup().Distillation.PublicCrossEntropy);
        Assert.DoesNotContain("public-ce", Encoding.UTF8.GetString(job.CanonicalBytes()));
        Assert.Equal(job.Hash, Parse("distillation { public-ce = true }").Hash);
    }

    [Fact]
    public void KD_only_is_journaled_round_trips_and_reaches_the_learning_setup()
    {
        var job = Parse("distillation { public-ce = false }");
        Assert.False(job.Distillation.PublicCrossEntropy);
        Assert.Contains("public-ce", Encoding.UTF8.GetString(job.CanonicalBytes()));
        var back = JobDefinition.FromCanonicalBytes(job.CanonicalBytes());
        Assert.False(back.Distillation.PublicCrossEntropy);
        Assert.Equal(job.Hash, back.Hash);
        Assert.NotEqual(Parse().Hash, job.Hash);
        Assert.False(JobSpecs.DefinitionOf(JobSpecs.From(job)).ToSetup().Distillation.PublicCrossEntropy);
    }

    [Fact]
    public void Lambda_zero_alone_is_CE_only_and_with_the_CE_off_is_refused_naming_both_keys()
    {
        Assert.Equal(0, Parse("distillation { lambda = 0 }").ToSetup().Distillation.Lambda);
        var ex = Refused("distillation { lambda = 0, public-ce = false }");
        Assert.Equal("job.distillation.public-ce", ex.Key);
        Assert.Contains("job.distillation.lambda = 0", ex.Message);
        Assert.Contains("set lambda > 0 (KD only) or public-ce = true (CE only)", ex.Message);
        Assert.Equal("job.distillation.public-ce", Refused("distillation { public-ce = maybe }").Key);
    }

    [Fact]
    public void LLM_public_runs_without_clients_and_refuses_what_it_would_ignore()
    {
        var job = Parse("strategy = llm-public\n clients { enrolled = [] }");
        Assert.Equal(JobFile.LlmPublic, job.Strategy);
        Assert.Empty(job.Enrolled);

        var block = Refused("strategy = llm-public\n training { llm-fine-tuning { epochs = 2 } }");
        Assert.Equal("job.training.llm-fine-tuning", block.Key);
        Assert.Contains("training.llm-distillation", block.Message);
        Assert.Equal("job.data.server-training-set", Refused($"strategy = llm-public\n data {{ server-training-set = \"{fixture.PathOf("train.jsonl").Replace('\\', '/')}\" }}").Key);
        Assert.Equal("job.secure-aggregation", Refused("strategy = llm-public\n secure-aggregation = on").Key);
        // Every other strategy still needs a client.
        Assert.Equal("job.clients.enrolled", Refused("clients { enrolled = [] }").Key);
    }

    [Fact]
    public void The_llm_public_plan_trains_the_LLM_on_the_public_set_then_evaluates()
    {
        var strategy = StrategyCatalog.Get(JobFile.LlmPublic);
        Assert.IsType<LlmPublicStrategy>(strategy);
        Assert.Equal([Operations.FineTuneLlmOnPublic, Operations.Evaluate], strategy.Phases.Select(p => p.Operation));
        Assert.DoesNotContain(strategy.Phases, p => p.RunBy == PhaseRunner.Clients);
        PhasePlan.Validate(strategy.Phases);
    }
}

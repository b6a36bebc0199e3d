using FedCoLLM.Actors.Jobs;
using FedCoLLM.Cli.Experiment;

namespace FedCoLLM.Cli.Tests;

/// <summary>`fedcollm experiment --methods …` with issue 16's ablations generates valid job files (no job is run): each
/// FedCoLLM ablation is FedCoLLM plus its one key, llm-public enrols no client, and the plain FedCoLLM job is unchanged.</summary>
public class ExperimentPlanAblationTests
{
    [Fact]
    public void Each_ablation_method_is_a_job_file_with_its_one_difference()
    {
        using var dir = new TempDir();
        var methods = new[] { "fedcollm", "fedcollm-ce-only", "fedcollm-kd-only", "fedcollm-t2", "llm-public" }.Select(ExperimentPlan.ParseMethod).ToArray();
        var plan = WordNetPlans.Create(dir.Path, methods, seeds: 1);

        Assert.Equal(["fedcollm-s1", "fedcollm-ce-only-s1", "fedcollm-kd-only-s1", "fedcollm-t2-s1", "llm-public-s1"], plan.Jobs.Select(j => j.JobId));
        var jobs = plan.Jobs.ToDictionary(j => j.JobId, j => JobSpecs.DefinitionOf(j.Spec));
        var fedcollm = jobs["fedcollm-s1"];
        Assert.True(fedcollm.Distillation.Lambda > 0);
        Assert.True(fedcollm.Distillation.PublicCrossEntropy);
        Assert.False(fedcollm.Distillation.Kd.ScaleByTemperatureSquared);

        // Each FedCoLLM ablation differs from FedCoLLM in its id and its one distillation key, nothing else.
        foreach (var (id, expected) in new[]
                 {
                     ("fedcollm-ce-only-s1", fedcollm.Distillation with { Lambda = 0 }),
                     ("fedcollm-kd-only-s1", fedcollm.Distillation with { PublicCrossEntropy = false }),
                     ("fedcollm-t2-s1", fedcollm.Distillation with { Kd = fedcollm.Distillation.Kd with { ScaleByTemperatureSquared = true } }),
                 })
        {
            Assert.Equal("fedcollm", jobs[id].Strategy);
            Assert.Equal(expected, jobs[id].Distillation);
            Assert.Equal(fedcollm with { Distillation = expected, Id = id }, jobs[id]);
        }

        var llmPublic = jobs["llm-public-s1"];
        Assert.Equal("llm-public", llmPublic.Strategy);
        Assert.Empty(llmPublic.Enrolled);
        Assert.Empty(plan.Jobs.Single(j => j.JobId == "llm-public-s1").Clients);
        Assert.True(llmPublic.Evaluation.EvaluateLlm);
        Assert.Equal(fedcollm.Training.LlmDistillation, llmPublic.Training.LlmDistillation);
        Assert.True(File.Exists(Path.Combine(dir.Path, "jobs", "llm-public-s1.conf")));

        Assert.Equal("fedcollm-kd-only", ExperimentPlan.Slug(ExperimentPlan.ParseMethod("fedcollm-kd-only")));
        Assert.Contains("llm-public", Assert.Throws<ArgumentException>(() => ExperimentPlan.ParseMethod("kd-only")).Message);
    }

    [Fact]
    public void The_settings_line_gives_the_centralized_jobs_own_llm_sft_learning_rate()
    {
        using var dir = new TempDir();
        var plan = WordNetPlans.Create(dir.Path, [Method.FedCoLLM, Method.Centralized], seeds: 1);
        var setup = JobSpecs.DefinitionOf(plan.Jobs.Single(j => j.Method == Method.Centralized).Spec).ToSetup();
        var sft = setup.LlmFineTuning!;
        // The base job has no LLM SFT block; its client SFT rate is not what the Centralized job trains with.
        Assert.NotEqual(setup.ClientTraining.Optimizer.LearningRate, sft.Optimizer.LearningRate);

        Assert.Contains(FormattableString.Invariant($"LLM SFT (centralized) {sft.Epochs} ep lr {sft.Optimizer.LearningRate} ·"), ExperimentReport.Describe(plan));
    }
}

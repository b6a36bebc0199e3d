using FedCoLLM.Actors.Jobs;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Federation;

namespace FedCoLLM.Actors.Tests.Jobs;

/// <summary>The shipped job files read their relative paths against the current directory, as a node does; these tests
/// set it to the repository root, so they run alone.</summary>
[CollectionDefinition(nameof(RepositoryRootDirectory), DisableParallelization = true)]
public sealed class RepositoryRootDirectory;

/// <summary>jobs/wordnet.conf and jobs/wordnet-quick.conf are exactly what `fedcollm run` and `fedcollm run --quick`
/// build today (RunPlan.Create), so running the built-in job from its file changes no byte of the results.</summary>
[Collection(nameof(RepositoryRootDirectory))]
public sealed class ShippedJobFileTests
{
    static readonly string[] Strategies = ["centralized", "fedavg", "fedcollm", "standalone", "zeroshot"];

    static T InRepositoryRoot<T>(Func<T> read)
    {
        var previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = Actors.Tiny.RepoRoot;
        try { return read(); }
        finally { Environment.CurrentDirectory = previous; }
    }

    /// <summary>RunPlan.Create(dataDir "data/wordnet", modelsDir "models", clients, rounds, seed 42, quick, threads 2).</summary>
    static FederationSetup RunPlanSetup(bool quick) => InRepositoryRoot(() =>
    {
        var setup = FederationSetup.Default("models/wordnet-slm", "models/wordnet-llm", QaPromptFormat.Load("data/wordnet/prompt.json"));
        setup = setup with { Compute = new ComputeOptions("cpu", 2, 42) };
        if (quick) setup = setup with { MaxClientExamples = 48, MaxPublicExamples = 48 };
        return setup;
    });

    [Theory]
    [InlineData("jobs/wordnet.conf", false)]
    [InlineData("jobs/wordnet-quick.conf", true)]
    public void The_shipped_job_sets_up_the_learning_core_exactly_as_fedcollm_run_does(string file, bool quick)
    {
        var job = InRepositoryRoot(() => JobFile.Load(file, Strategies));

        Assert.Equal(RunPlanSetup(quick), job.ToSetup());
    }

    [Fact]
    public void The_default_job_has_the_run_plan_of_fedcollm_run()
    {
        var job = InRepositoryRoot(() => JobFile.Load("jobs/wordnet.conf", Strategies));

        Assert.Equal(("wordnet", "fedcollm", 4, 42L), (job.Id, job.Strategy, job.Rounds, job.Seed));
        Assert.Equal(["noun.animal", "noun.body", "noun.food", "noun.plant"], job.Enrolled);
        Assert.Equal(2, job.Quorum);
        Assert.Equal(TimeSpan.FromMinutes(30), job.ClientTrainingDeadline);
        Assert.Equal(3, job.MaxRoundAttempts);
        Assert.Equal("data/wordnet/public/train.jsonl", job.PublicSetPath);
        Assert.Null(job.ServerTrainingSetPath);
        Assert.Equal(new[] { "noun.animal", "noun.plant", "noun.food", "noun.body" }.Select(d => (d, $"data/wordnet/clients/{d}/test.jsonl")),
            job.Evaluation.Sets.Select(s => (s.Name, s.Path)));
        Assert.Null(job.Evaluation.MaxItems);
        Assert.Null(job.Evaluation.PublicItems);
        Assert.True(job.Evaluation.ScoreBaseline && job.Evaluation.EvaluateLlm);
        Assert.Null(InRepositoryRoot(() => job.VerifyModelFiles(ModelKind.Slm) ?? job.VerifyModelFiles(ModelKind.Llm) ?? job.VerifyServerFiles()));
    }

    [Fact]
    public void The_quick_job_has_the_run_plan_of_fedcollm_run_quick()
    {
        var job = InRepositoryRoot(() => JobFile.Load("jobs/wordnet-quick.conf", Strategies));

        Assert.Equal(1, job.Rounds);
        Assert.Equal(["noun.animal", "noun.plant"], job.Enrolled);
        Assert.Equal(1, job.Quorum);
        Assert.Equal(TimeSpan.FromMinutes(10), job.ClientTrainingDeadline);
        Assert.Equal(40, job.Evaluation.MaxItems);
        Assert.Equal(["noun.animal", "noun.plant"], job.Evaluation.Sets.Select(s => s.Name));
    }
}

/// <summary>jobs/skills.conf and jobs/skills-quick.conf run the skills benchmark (data/skills) on its own model pair.</summary>
[Collection(nameof(RepositoryRootDirectory))]
public sealed class ShippedSkillsJobFileTests
{
    static readonly string[] Strategies = ["centralized", "fedavg", "fedcollm", "standalone", "zeroshot"];
    static readonly string[] Families = ["arithmetic", "comparison", "letters", "word-problems"];

    static JobDefinition Load(string file)
    {
        var previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = Actors.Tiny.RepoRoot;
        try
        {
            var job = JobFile.Load(file, Strategies);
            Assert.Null(job.VerifyModelFiles(ModelKind.Slm) ?? job.VerifyModelFiles(ModelKind.Llm) ?? job.VerifyServerFiles());
            Assert.All(job.Evaluation.Sets, s => Assert.True(File.Exists(s.Path), s.Path));
            return job;
        }
        finally { Environment.CurrentDirectory = previous; }
    }

    [Fact]
    public void The_skills_job_enrols_one_client_per_family_and_scores_each_familys_test_split()
    {
        var job = Load("jobs/skills.conf");

        Assert.Equal(("skills", "fedcollm", 4, 42L), (job.Id, job.Strategy, job.Rounds, job.Seed));
        Assert.Equal(Families, job.Enrolled.Order());
        Assert.Equal("data/skills/public/train.jsonl", job.PublicSetPath);
        Assert.Equal(Families.Select(f => (f, $"data/skills/clients/{f}/test.jsonl")), job.Evaluation.Sets.Select(s => (s.Name, s.Path)));
        Assert.Equal(("models/skills-slm", "models/skills-llm"), (job.ToSetup().SlmDirectory, job.ToSetup().LlmDirectory));
    }

    [Fact]
    public void The_quick_skills_job_is_small()
    {
        var job = Load("jobs/skills-quick.conf");

        Assert.Equal(1, job.Rounds);
        Assert.Equal(["arithmetic", "letters"], job.Enrolled);
        Assert.Equal(40, job.Evaluation.MaxItems);
    }
}

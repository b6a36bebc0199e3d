using System.Text;
using FedCoLLM.Actors.Jobs;

namespace FedCoLLM.Actors.Tests.Jobs;

/// <summary>The job file's <c>secure-aggregation*</c> keys: off by default, journaled with the job when on, refused
/// with the key to fix when they cannot work.</summary>
public sealed class SecureAggregationJobFileTests : IDisposable
{
    readonly JobFixture fixture = new();

    public void Dispose() => fixture.Dispose();

    [Fact]
    public void Secure_aggregation_is_off_by_default_and_leaves_the_canonical_bytes_as_they_were()
    {
        var job = fixture.Parse();
        Assert.Null(job.SecureAggregation);
        Assert.DoesNotContain("secure-aggregation", Encoding.UTF8.GetString(job.CanonicalBytes()));
        Assert.Null(JobSpecs.From(job).SecureAggregation);
        Assert.Equal(job.Hash, fixture.Parse("secure-aggregation = off").Hash);
    }

    [Fact]
    public void On_it_is_in_the_canonical_form_the_spec_and_the_hash()
    {
        var job = fixture.Parse("secure-aggregation = on\nsecure-aggregation-clip = 0.25\nsecure-aggregation-step-deadline = 90s");
        // Two clients, quorum 1: t = 2 − max(1, 2) = 0.
        Assert.Equal(new JobSecureAggregation(0, 0.25, 100_000, TimeSpan.FromSeconds(90)), job.SecureAggregation);
        var back = JobDefinition.FromCanonicalBytes(job.CanonicalBytes());
        Assert.Equal(job.SecureAggregation, back.SecureAggregation);
        Assert.Equal(job.Hash, back.Hash);
        var spec = JobSpecs.From(job).SecureAggregation!;
        Assert.Equal((0, 0.25, 100_000L, TimeSpan.FromSeconds(90)), (spec.MaxDropouts, spec.Clip, spec.MaxSamplesPerClient, spec.StepTimeout));
        Assert.StartsWith("secure-aggregation (missing vs", fixture.Parse().FirstDifference(job));
    }

    [Fact]
    public void The_default_dropouts_keep_the_quorum_and_a_majority()
    {
        const string four = "clients { enrolled = [a, b, c, d] }\nsecure-aggregation = on";
        Assert.Equal(1, fixture.Parse(four).SecureAggregation!.Dropouts);                   // 4 − max(2, 3)
        Assert.Equal(0, fixture.Parse(four + "\nclients { quorum = 4 }").SecureAggregation!.Dropouts);
        Assert.Equal(1, fixture.Parse(four + "\nsecure-aggregation-dropouts = 1").SecureAggregation!.Dropouts);
    }

    [Theory]
    [InlineData("secure-aggregation = on\nsecure-aggregation-dropouts = 1", "job.secure-aggregation-dropouts", "between 0 and 0")]
    [InlineData("secure-aggregation = on\nstrategy = zeroshot", "job.secure-aggregation", "does not average client updates")]
    [InlineData("secure-aggregation = on\nstrategy = standalone\nclients { enrolled = [plant] }", "job.secure-aggregation", "does not average client updates")]
    [InlineData("secure-aggregation-clip = 0.1", "job.secure-aggregation-clip", "secure-aggregation is off")]
    [InlineData("secure-aggregation = on\nsecure-aggregation-clip = 0", "job.secure-aggregation-clip", "largest |change|")]
    [InlineData("secure-aggregation = on\nsecure-aggregation-max-samples = 0", "job.secure-aggregation-max-samples", "at least the largest client training set")]
    [InlineData("secure-aggregation = on\nsecure-aggregation-clip = 1000\nsecure-aggregation-max-samples = 100000000", "job.secure-aggregation-clip", "32-bit")]
    [InlineData("secure-aggregation = maybe", "job.secure-aggregation", "is not a boolean")]
    [InlineData("secure-aggregation = on\nsecure-aggregation-step-deadline = soon", "job.secure-aggregation-step-deadline", "is not a duration")]
    public void What_cannot_work_is_refused_naming_the_key(string extra, string key, string message)
    {
        var ex = fixture.Refused(extra);
        Assert.Equal(key, ex.Key);
        Assert.Contains(message, ex.Message);
    }
}

/// <summary>jobs/wordnet-quick-secure.conf is jobs/wordnet-quick.conf with secure aggregation on, and nothing else.</summary>
[Collection(nameof(RepositoryRootDirectory))]
public sealed class ShippedSecureJobFileTests
{
    static readonly string[] Strategies = ["centralized", "fedavg", "fedcollm", "standalone", "zeroshot"];

    [Fact]
    public void The_shipped_secure_quick_job_differs_from_the_quick_job_only_by_id_and_secure_aggregation()
    {
        var previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = Actors.Tiny.RepoRoot;
        try
        {
            var secure = JobFile.Load("jobs/wordnet-quick-secure.conf", Strategies);
            var quick = JobFile.Load("jobs/wordnet-quick.conf", Strategies);
            Assert.Equal(new JobSecureAggregation(0, 0.5, 100_000, TimeSpan.FromMinutes(2)), secure.SecureAggregation);
            Assert.Equal(quick with { Id = secure.Id, SecureAggregation = secure.SecureAggregation }, secure);
        }
        finally { Environment.CurrentDirectory = previous; }
    }
}

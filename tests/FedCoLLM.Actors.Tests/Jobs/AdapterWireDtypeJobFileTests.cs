using System.Text;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Learning.Lora;

namespace FedCoLLM.Actors.Tests.Jobs;

/// <summary>The job file's <c>adapters.wire-dtype</c>: float32 by default (the canonical bytes of every existing job
/// unchanged), journaled with the job and handed to the learning setup when set, refused with the key to fix when it is
/// misspelt or combined with secure aggregation.</summary>
public sealed class AdapterWireDtypeJobFileTests : IDisposable
{
    readonly JobFixture fixture = new();

    public void Dispose() => fixture.Dispose();

    [Fact]
    public void Float32_is_the_default_and_leaves_the_canonical_bytes_as_they_were()
    {
        var job = fixture.Parse();
        Assert.Equal(AdapterWireDtype.Float32, job.AdapterWireDtype);
        Assert.DoesNotContain("adapters", Encoding.UTF8.GetString(job.CanonicalBytes()));
        Assert.Equal(job.Hash, fixture.Parse("adapters { wire-dtype = float32 }").Hash);
        Assert.Equal(AdapterWireDtype.Float32, job.ToSetup().SlmWireDtype);
    }

    [Theory]
    [InlineData("bfloat16", AdapterWireDtype.BFloat16)]
    [InlineData("float16", AdapterWireDtype.Float16)]
    public void A_half_precision_wire_dtype_is_in_the_canonical_form_the_hash_and_the_setup(string name, AdapterWireDtype dtype)
    {
        var job = fixture.Parse($"adapters {{ wire-dtype = {name} }}");
        Assert.Equal(dtype, job.AdapterWireDtype);
        var back = JobDefinition.FromCanonicalBytes(job.CanonicalBytes());
        Assert.Equal(dtype, back.AdapterWireDtype);
        Assert.Equal(job.Hash, back.Hash);
        Assert.NotEqual(fixture.Parse().Hash, job.Hash);
        Assert.StartsWith("adapters (missing vs", fixture.Parse().FirstDifference(job));
        Assert.Equal(dtype, JobSpecs.DefinitionOf(JobSpecs.From(job)).ToSetup().SlmWireDtype);
    }

    [Theory]
    [InlineData("adapters { wire-dtype = bf16 }", "job.adapters.wire-dtype", "is not one of float32, bfloat16, float16")]
    [InlineData("adapters { wire-dtype = bfloat16 }\nsecure-aggregation = on", "job.adapters.wire-dtype", "secure aggregation sends each update in its own fixed-point encoding")]
    [InlineData("adapters { dtype = bfloat16 }", "job.adapters.dtype", "wire-dtype")]
    public void What_cannot_work_is_refused_naming_the_key(string extra, string key, string message)
    {
        var ex = fixture.Refused(extra);
        Assert.Equal(key, ex.Key);
        Assert.Contains(message, ex.Message);
    }
}

using FedCoLLM.Actors.Identity;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Tests.Blobs;
using FedCoLLM.Actors.Tests.Jobs;

namespace FedCoLLM.Actors.Tests.Identity;

/// <summary><c>job.clients.public-keys</c>: read, canonical, carried into the spec, and every malformed form refused naming the key.</summary>
public sealed class JobKeyEnrolmentTests : IDisposable
{
    readonly JobFixture fixture = new();
    readonly TempDirectory keys = new();
    readonly string plant, animal;

    public JobKeyEnrolmentTests()
    {
        plant = ClientKeyFiles.New(keys.Path, "plant");
        animal = ClientKeyFiles.New(keys.Path, "animal");
    }

    public void Dispose()
    {
        fixture.Dispose();
        keys.Dispose();
    }

    string Enrol(string plantKey, string animalKey) =>
        $$"""clients { public-keys = [{ id = plant, key = "{{plantKey}}" }, { id = animal, key = "{{animalKey}}" }] }""";

    [Fact]
    public void Enrolled_keys_reach_the_spec_and_survive_the_canonical_round_trip()
    {
        var definition = fixture.Parse(Enrol(plant, animal));

        Assert.Equal(plant, definition.PublicKeys["plant"]);
        var back = JobDefinition.FromCanonicalBytes(definition.CanonicalBytes());
        Assert.Equal(definition, back);
        var spec = JobSpecs.From(definition);
        Assert.True(spec.RequiresSignatures);
        Assert.Equal(animal, spec.ClientKeys!["animal"]);
    }

    [Fact]
    public void A_job_without_keys_keeps_its_canonical_bytes_and_runs_unsigned()
    {
        var definition = fixture.Parse();

        Assert.DoesNotContain("public-keys", System.Text.Encoding.UTF8.GetString(definition.CanonicalBytes()));
        Assert.False(JobSpecs.From(definition).RequiresSignatures);
    }

    [Fact]
    public void Changing_a_key_is_a_different_spec_named_by_its_key()
    {
        var other = ClientKeyFiles.New(Path.Combine(keys.Path, "other"), "plant");

        var difference = JobSpecs.From(fixture.Parse(Enrol(plant, animal))).FirstDifference(JobSpecs.From(fixture.Parse(Enrol(other, animal))));

        Assert.StartsWith("clients.public-keys[1].key", difference);
    }

    [Fact]
    public void A_malformed_key_is_refused_naming_its_field()
    {
        var ex = fixture.Refused(Enrol(plant, "ed25519:AAAA"));

        Assert.Equal("job.clients.public-keys[1].key", ex.Key);
        Assert.Contains("is not an Ed25519 public key: it holds 3 bytes", ex.Message);
    }

    [Fact]
    public void A_key_for_an_unenrolled_client_or_a_missing_key_is_refused()
    {
        var stranger = fixture.Refused($$"""clients { public-keys = [{ id = plant, key = "{{plant}}" }, { id = animal, key = "{{animal}}" }, { id = mallory, key = "{{plant}}" }] }""");
        Assert.Equal("job.clients.public-keys[2].id", stranger.Key);
        Assert.Contains("is not in clients.enrolled", stranger.Message);

        var missing = fixture.Refused($$"""clients { public-keys = [{ id = plant, key = "{{plant}}" }] }""");
        Assert.Equal("job.clients.public-keys", missing.Key);
        Assert.Contains("has no key for enrolled client animal", missing.Message);

        var twice = fixture.Refused($$"""clients { public-keys = [{ id = plant, key = "{{plant}}" }, { id = plant, key = "{{animal}}" }] }""");
        Assert.Equal("job.clients.public-keys[1].id", twice.Key);
    }
}

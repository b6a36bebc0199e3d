using FedCoLLM.Actors.Identity;
using FedCoLLM.Actors.Tests.Blobs;
using FedCoLLM.Actors.Tests.Rounds;

namespace FedCoLLM.Actors.Tests.Identity;

/// <summary>Key files, the signed statement's bytes and signature checks (NSec's real Ed25519).</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes
public sealed class ClientKeyTests : IDisposable
{
    readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    static UpdateStatement Statement(string client = "alice") => new("job-1", 2, 1, client, Rounds.Blobs.Update(2, client), 100);

    [Fact]
    public void Keys_new_writes_a_private_key_only_its_owner_can_read_and_a_one_line_public_key()
    {
        var publicKey = ClientKeyFiles.New(dir.Path, "noun.animal");

        Assert.Equal(ClientKeyFiles.PrivateMode, File.GetUnixFileMode(ClientKeyFiles.PrivatePath(dir.Path, "noun.animal")));
        Assert.Equal(publicKey + "\n", File.ReadAllText(ClientKeyFiles.PublicPath(dir.Path, "noun.animal")));
        Assert.Null(ClientPublicKey.Problem(publicKey));
        using var signer = ClientKeyFiles.Load(dir.Path, "noun.animal")!;
        Assert.Equal(publicKey, signer.PublicKey);
        Assert.Throws<IOException>(() => ClientKeyFiles.New(dir.Path, "noun.animal")); // never replaced by accident
    }

    [Fact]
    public void A_private_key_readable_by_others_is_refused_with_the_fix()
    {
        ClientKeyFiles.New(dir.Path, "bob");
        var path = ClientKeyFiles.PrivatePath(dir.Path, "bob");
        File.SetUnixFileMode(path, ClientKeyFiles.PrivateMode | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var ex = Assert.Throws<InvalidDataException>(() => ClientKeyFiles.Load(dir.Path, "bob"));

        Assert.Contains($"chmod 600 {path}", ex.Message);
        Assert.Null(ClientKeyFiles.Load(dir.Path, "nobody")); // no key: unsigned, not an error
    }

    [Fact]
    public void A_private_key_file_that_is_not_a_key_is_refused_naming_the_command_that_makes_one()
    {
        var path = ClientKeyFiles.PrivatePath(dir.Path, "carol");
        File.WriteAllText(path, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
        File.SetUnixFileMode(path, ClientKeyFiles.PrivateMode);

        var ex = Assert.Throws<InvalidDataException>(() => ClientKeyFiles.Load(dir.Path, "carol"));

        Assert.Contains("fedcollm keys new --client-id carol", ex.Message);
    }

    [Fact]
    public void A_signature_verifies_only_for_the_signed_statement_and_the_signing_key()
    {
        ClientKeyFiles.New(dir.Path, "alice");
        var other = ClientKeyFiles.New(Path.Combine(dir.Path, "other"), "alice");
        using var signer = ClientKeyFiles.Load(dir.Path, "alice")!;
        var statement = Statement();
        var signature = signer.Sign(statement);

        Assert.True(statement.IsSignedBy(signer.PublicKey, signature));
        Assert.False(statement.IsSignedBy(other, signature));
        Assert.False((statement with { Round = 3 }).IsSignedBy(signer.PublicKey, signature));
        Assert.False((statement with { Attempt = 2 }).IsSignedBy(signer.PublicKey, signature));
        Assert.False((statement with { JobId = "job-2" }).IsSignedBy(signer.PublicKey, signature));
        Assert.False((statement with { SampleCount = 101 }).IsSignedBy(signer.PublicKey, signature));
        Assert.False((statement with { Adapter = Rounds.Blobs.Named("another adapter") }).IsSignedBy(signer.PublicKey, signature));
        Assert.False(statement.IsSignedBy(signer.PublicKey, null));
        Assert.False(statement.IsSignedBy(signer.PublicKey, "not base64!"));
        Assert.Throws<ArgumentException>(() => signer.Sign(Statement("bob"))); // a key signs only its own client's updates
    }

    [Fact]
    public void The_statement_bytes_are_domain_separated_and_length_prefixed()
    {
        var bytes = Statement().Bytes();

        Assert.Equal(UpdateStatement.Domain, bytes[..UpdateStatement.Domain.Length]);
        // "job-1" | "alice" vs "job-" | "1alice": the length prefixes keep field boundaries in the bytes.
        Assert.NotEqual(Statement().Bytes(), (Statement() with { JobId = "job-", ClientId = "1alice" }).Bytes());
        Assert.Equal(UpdateStatement.Domain.Length + 4 + 5 + 4 + 4 + 4 + 5 + 32 + 8 + 8, bytes.Length);
    }

    [Theory]
    [InlineData("AAAA", "must start with \"ed25519:\"")]
    [InlineData("ed25519:not base64!", "is not base64")]
    [InlineData("ed25519:AAAA", "it holds 3 bytes, an Ed25519 key has 32")]
    public void A_malformed_public_key_is_described(string key, string expected) =>
        Assert.Contains(expected, ClientPublicKey.Problem(key));
}

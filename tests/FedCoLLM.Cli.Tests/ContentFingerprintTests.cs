using FedCoLLM.Cli.Federation;

namespace FedCoLLM.Cli.Tests;

/// <summary>Jobs are fingerprinted by what their data and models contain: the same bytes elsewhere match, one changed
/// byte does not.</summary>
public class ContentFingerprintTests
{
    [Fact]
    public void A_copy_elsewhere_matches_and_an_edit_does_not()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        foreach (var root in new[] { a.Path, b.Path })
        {
            Directory.CreateDirectory(Path.Combine(root, "model", "sub"));
            File.WriteAllText(Path.Combine(root, "model", "config.json"), "{\"n_embd\": 64}");
            File.WriteAllText(Path.Combine(root, "model", "sub", "weights.bin"), "0123456789");
        }
        Assert.Equal(ContentFingerprint.OfDirectory(Path.Combine(a.Path, "model")), ContentFingerprint.OfDirectory(Path.Combine(b.Path, "model")));
        Assert.Equal(ContentFingerprint.OfFile(Path.Combine(a.Path, "model", "config.json")), ContentFingerprint.OfFile(Path.Combine(b.Path, "model", "config.json")));

        File.WriteAllText(Path.Combine(b.Path, "model", "sub", "weights.bin"), "0123456788");
        Assert.NotEqual(ContentFingerprint.OfDirectory(Path.Combine(a.Path, "model")), ContentFingerprint.OfDirectory(Path.Combine(b.Path, "model")));

        // A renamed file is a different model even with the same bytes.
        File.Move(Path.Combine(a.Path, "model", "config.json"), Path.Combine(a.Path, "model", "config2.json"));
        File.WriteAllText(Path.Combine(b.Path, "model", "sub", "weights.bin"), "0123456789");
        Assert.NotEqual(ContentFingerprint.OfDirectory(Path.Combine(a.Path, "model")), ContentFingerprint.OfDirectory(Path.Combine(b.Path, "model")));
    }

    [Fact]
    public void Absent_inputs_have_fixed_names()
    {
        Assert.Equal("none", ContentFingerprint.OfFile(null));
        Assert.Equal("missing", ContentFingerprint.OfFile("/nonexistent/fedcollm/file.jsonl"));
        Assert.Equal("missing", ContentFingerprint.OfDirectory("/nonexistent/fedcollm/model"));
    }
}

using FedCoLLM.Learning.Checkpoints;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests;

/// <summary>Paths to the committed fixtures under tests/reference and tests/fixtures, and a throw-away directory per test.</summary>
static class Fixtures
{
    public static readonly ComputeOptions Cpu = new();

    /// <summary>The repository root, found from the test binary's location.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FedCoLLM.Actors.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no FedCoLLM.Actors.sln above {AppContext.BaseDirectory}");
    }

    static readonly Lazy<string> ReferenceRoot = new(() => Path.Combine(RepositoryRoot(), "tests", "reference"));

    public static string Reference(string name) => Path.Combine(ReferenceRoot.Value, name);

    public static string Tokenizer(string name) => Path.Combine(ReferenceRoot.Value, "tokenizers", name);

    /// <summary>tests/fixtures/<paramref name="name"/>: the Hugging Face-layout model pairs and ARC-style data.</summary>
    public static string Fixture(string name) => Path.Combine(RepositoryRoot(), "tests", "fixtures", name);

    public static readonly string[] ModelNames = ["gpt2-tiny", "llama-tiny", "llama-tiny-tied-bias"];

    public static Dictionary<string, Tensor> Golden(string name) =>
        SafeTensors.Load(Path.Combine(Reference(name), "golden.safetensors"));

    /// <summary>Same dtype, shape and bytes: equality with no tolerance at all.</summary>
    public static bool BitEqual(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.contiguous().bytes.SequenceEqual(b.contiguous().bytes);

    public static Tensor Logits(Models.CausalLanguageModel model, Tensor inputIds, Tensor attentionMask)
    {
        using var _ = no_grad();
        return model.forward(inputIds, attentionMask);
    }
}

/// <summary>A temporary directory deleted when the test ends.</summary>
sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("fedcollm-test-").FullName;
    public void Dispose() => Directory.Delete(Path, recursive: true);
}

using FedCoLLM.Learning.Checkpoints;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests;

/// <summary>Paths to the committed fixtures under tests/reference and a throw-away directory per test.</summary>
static class Fixtures
{
    public static readonly ComputeOptions Cpu = new();

    static readonly Lazy<string> ReferenceRoot = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "reference");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/reference not found above " + AppContext.BaseDirectory);
    });

    public static string Reference(string name) => Path.Combine(ReferenceRoot.Value, name);

    public static string Tokenizer(string name) => Path.Combine(ReferenceRoot.Value, "tokenizers", name);

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

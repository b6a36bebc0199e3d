using System.Text.Json.Nodes;

namespace FedCoLLM.Cli.Tests;

/// <summary>Job files for the tests: a shipped job plus lines that override its keys (HOCON: a later value wins).</summary>
static class TestJobs
{
    public static string QuickBase => Path.Combine(Repository.Root, "jobs", "wordnet-quick.conf");

    /// <summary>The quick job made smaller still, for tests that compare bytes rather than accuracy: 16 training and
    /// 16 public examples (one optimizer step per phase), one evaluation set of 8 questions, no baseline scoring.</summary>
    public static readonly string[] Small =
    [
        "job.training.client.max-examples = 16",
        "job.training.slm-distillation.max-examples = 16",
        "job.data.evaluation.sets = [ { name = \"noun.animal\", path = \"data/wordnet/clients/noun.animal/test.jsonl\" } ]",
        "job.data.evaluation.max-items = 8",
        "job.data.evaluation.score-baseline = false",
    ];

    /// <summary>Writes <paramref name="dir"/>/<paramref name="name"/>.conf: the quick built-in job with <paramref name="lines"/>.</summary>
    public static string Write(string dir, string name, params string[] lines)
    {
        var path = Path.Combine(dir, name + ".conf");
        File.WriteAllText(path, File.ReadAllText(QuickBase) + "\n" + string.Join("\n", lines) + "\n");
        return path;
    }
}

/// <summary>What a finished `fedcollm run` left in its run directory.</summary>
static class RunOutputs
{
    /// <summary>The final adapter hashes of <paramref name="jobId"/> from DIR/JOB/report.json, after checking the job
    /// completed <paramref name="rounds"/> rounds and that the exported PEFT files are those blobs byte for byte.</summary>
    public static (string Slm, string Llm) FinalHashes(string runDir, string jobId, int rounds)
    {
        var outDir = Path.Combine(runDir, jobId);
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")))!;
        var final = report["final"]!;
        Assert.Equal(rounds, final["round"]!.GetValue<int>());
        var slm = final["slm_adapter_sha256"]!.GetValue<string>();
        var llm = final["llm_adapter_sha256"]!.GetValue<string>();
        Assert.Equal(slm, Sha256(Path.Combine(outDir, "final", "slm", "adapter_model.safetensors")));
        Assert.Equal(llm, Sha256(Path.Combine(outDir, "final", "llm", "adapter_model.safetensors")));
        return (slm, llm);
    }

    public static string Sha256(string path) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
}

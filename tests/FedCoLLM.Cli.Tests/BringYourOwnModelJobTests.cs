using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FedCoLLM.Cli.Federation;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// The bring-your-own path end to end, as a user takes it: a job file naming a Hugging Face-layout LLaMA pair and
/// ARC-style files, `fedcollm run` with the clients' data on the command line, then the exported PEFT adapter loaded by
/// `fedcollm eval`. Everything runs in child processes from the repository root, so the job's relative paths are the
/// user's.
/// </summary>
[Collection(ChildProcesses.Name)]
public class BringYourOwnModelJobTests
{
    const string Job = "byom-llama";
    const string EvaluationSet = "arc-test";
    const string Arc = "tests/fixtures/arc-style";
    const string Slm = "tests/fixtures/llama-slm";

    // Learning rates far above the defaults so two rounds on 24 examples move the untrained fixtures' predictions:
    // an adapter that scores exactly like the base model would prove nothing about being applied.
    static readonly string JobText = $$"""
        job {
          id = {{Job}}
          strategy = fedcollm
          rounds = 2
          seed = 5
          models {
            slm { path = "{{Slm}}" }
            llm { path = "tests/fixtures/llama-llm" }
          }
          lora {
            slm { r = 4, alpha = 8, targets = [q_proj, v_proj] }
            llm { r = 4, alpha = 8, targets = [q_proj, v_proj] }
          }
          training {
            client           { batch-size = 8, learning-rate = 0.05 }
            slm-distillation { batch-size = 8, learning-rate = 0.05 }
            llm-distillation { batch-size = 8, learning-rate = 0.05 }
          }
          data {
            public-set = "{{Arc}}/public.jsonl"
            evaluation { sets = [ { name = {{EvaluationSet}}, path = "{{Arc}}/test.jsonl" } ] }
          }
          clients { enrolled = [acme, globex] }
        }
        """;

    [Fact]
    public async Task A_llama_pair_federates_on_arc_style_files_and_eval_of_its_exported_slm_adapter_scores_what_the_report_recorded()
    {
        using var dir = new TempDir();
        var jobFile = Path.Combine(dir.Path, "job.conf");
        File.WriteAllText(jobFile, JobText);
        var runDir = Path.Combine(dir.Path, "out");

        var (code, output) = await Fedcollm.Run(["run", jobFile, "--out", runDir,
            "--data", $"acme={Arc}/clients/acme/train.jsonl", "--data", $"globex={Arc}/clients/globex/train.jsonl"]);

        Assert.True(code == 0, output);
        var outDir = Path.Combine(runDir, Job);
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")))!;
        Assert.Equal("Completed", report["status"]!.GetValue<string>());
        var rounds = report["rounds"]!.AsArray();
        Assert.Equal([1, 2], rounds.Select(r => r!["round"]!.GetValue<int>()));
        foreach (var metrics in rounds.Select(r => r!["metrics"]!).Prepend(report["baseline"]!))
            foreach (var key in new[] { "slm/acc", "slm/acc_norm", "llm/acc", "llm/acc_norm" })
                Assert.InRange(metrics[$"{key}/{EvaluationSet}"]!.GetValue<double>(), 0, 1); // null (not finite) throws
        var last = rounds[^1]!["metrics"]!;
        var (trainedAcc, trainedAccNorm) = (last[$"slm/acc/{EvaluationSet}"]!.GetValue<double>(), last[$"slm/acc_norm/{EvaluationSet}"]!.GetValue<double>());
        var baseline = report["baseline"]!;
        Assert.NotEqual((baseline[$"slm/acc/{EvaluationSet}"]!.GetValue<double>(), baseline[$"slm/acc_norm/{EvaluationSet}"]!.GetValue<double>()),
            (trainedAcc, trainedAccNorm));

        // The report's table has a column per evaluation set (named by the job, not after a client).
        Assert.Contains($"| SLM | 2 | {RunReport.Percent(trainedAcc)} |", File.ReadAllText(Path.Combine(outDir, "report.md")));

        foreach (var model in new[] { "slm", "llm" })
        {
            var adapter = Path.Combine(outDir, "final", model);
            Assert.Equal(report["final"]![$"{model}_adapter_sha256"]!.GetValue<string>(), Sha256(Path.Combine(adapter, "adapter_model.safetensors")));
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(adapter, "adapter_config.json")))!;
            Assert.False(config["fan_in_fan_out"]!.GetValue<bool>(), "LLaMA's projections are nn.Linear: PEFT's fan_in_fan_out is false");
            Assert.Equal(["q_proj", "v_proj"], config["target_modules"]!.AsArray().Select(t => t!.GetValue<string>()));
            Assert.Equal($"tests/fixtures/llama-{model}", config["base_model_name_or_path"]!.GetValue<string>());
        }

        // Scored as the server scored it: the job has no data.prompt, so the default prompt, which is also eval's
        // without --prompt, and the job's default max-length (eval's own default is 512).
        var testSet = $"{Arc}/test.jsonl";
        var (evalCode, stdout, stderr) = await Fedcollm.RunApart(["eval", "--model", Slm, "--adapter", Path.Combine(outDir, "final", "slm"),
            "--data", testSet, "--max-length", "128", "--json"]);

        Assert.True(evalCode == 0, stderr);
        var eval = JsonNode.Parse(stdout)!;
        Assert.Equal(File.ReadLines(Path.Combine(Repository.Root, testSet)).Count(), eval["n"]!.GetValue<int>());
        Assert.InRange(eval["acc"]!.GetValue<double>(), 0, 1);
        Assert.Equal((trainedAcc, trainedAccNorm), (eval["acc"]!.GetValue<double>(), eval["acc_norm"]!.GetValue<double>()));
    }

    static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}

using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli.Testing;
using Spectre.Console.Testing;

namespace FedCoLLM.Cli.Tests;

/// <summary>`fedcollm bench round` end to end on the tiny shape: every phase of the round runs through the production
/// steps and the JSON carries consistent figures. Correctness only; the real-size figures are in docs/benchmarks.md.</summary>
[Collection(ChildProcesses.Name)]
public class RoundBenchCommandTests
{
    [Fact]
    public void Tiny_round_writes_every_phase_with_consistent_figures()
    {
        var scratch = Directory.CreateTempSubdirectory("fedcollm-bench-round-").FullName;
        try
        {
            AnsiConsole.Console = new TestConsole().Width(200);
            var app = new CommandAppTester();
            app.Configure(CommandLine.Configure);
            var json = Path.Combine(scratch, "round.json");
            var result = app.Run("bench", "round", "--llm", "tiny", "--slm", "tiny", "--data", Path.Combine(Repository.Root, "data", "wordnet"),
                "--cache", Path.Combine(scratch, "models"), "--client-examples", "4", "--public-examples", "4", "--eval-items", "1",
                "--batch", "2", "--profile-steps", "1", "--peak-size", "256", "--json", json);
            Assert.True(result.ExitCode == 0, result.Output);

            var r = JsonNode.Parse(File.ReadAllText(json))!;
            Assert.Equal(50_257, r["llm"]!["vocab"]!.GetValue<int>());
            Assert.Equal(3_324_736, r["llm"]!["parameters"]!.GetValue<long>()); // 50 257·64 + 128·64 + 2·(12·64² + 13·64) + 2·64
            double peak = r["matmul_peak_gflops"]!.GetValue<double>();
            Assert.InRange(peak, 0.1, 1e5);
            var phases = r["phases"]!.AsObject();
            Assert.Equal(["load_slm", "load_llm", "slm_client_sft", "fedavg", "llm_teacher_logits", "slm_distillation",
                "slm_teacher_logits", "llm_distillation", "slm_evaluation", "llm_evaluation"], phases.Select(p => p.Key));
            double sum = 0;
            foreach (var (name, p) in phases)
            {
                double wall = p!["wall_s"]!.GetValue<double>();
                sum += wall;
                Assert.True(wall > 0, name);
                if (p["peak_rss_mb"] is { } rss) Assert.InRange(rss.GetValue<double>(), 10, 100_000);
                if (name == "fedavg") { Assert.Equal(0, p["tokens"]!.GetValue<long>()); continue; }
                long tokens = p["tokens"]!.GetValue<long>(), answers = p["answer_tokens"]!.GetValue<long>();
                Assert.InRange(answers, 1, tokens - 1);
                Assert.Equal(p["gflop"]!.GetValue<double>() / wall, p["gflops"]!.GetValue<double>(), 6);
                Assert.Equal(p["gflops"]!.GetValue<double>() / peak, p["fraction_of_peak"]!.GetValue<double>(), 6);
            }
            // 2 clients × 4 examples, the same public slice in both directions, one question = 4 choices per evaluation.
            Assert.Equal(2, phases["slm_client_sft"]!["runs"]!.GetValue<int>());
            Assert.Equal(phases["slm_distillation"]!["tokens"]!.GetValue<long>(), phases["llm_distillation"]!["tokens"]!.GetValue<long>());
            Assert.Equal(phases["llm_teacher_logits"]!["tokens"]!.GetValue<long>(), phases["llm_distillation"]!["tokens"]!.GetValue<long>());
            // Same examples, so training counts 4·P + … where the forward counts 2·P + …: between 2× and 3× the teacher pass.
            double ratio = phases["llm_distillation"]!["gflop"]!.GetValue<double>() / phases["llm_teacher_logits"]!["gflop"]!.GetValue<double>();
            Assert.InRange(ratio, 2.0, 3.0);
            Assert.Equal(sum, r["round_seconds"]!.GetValue<double>(), 6);
            var step = r["llm_distillation_step"]!;
            Assert.Equal(2, step["batch_rows"]!.GetValue<int>());
            Assert.True(step["production_step_median_s"]!.GetValue<double>() > 0); // 4 public examples in batches of 2: two steps
            foreach (var key in new[] { "forward_s", "lm_head_forward_s", "loss_s", "backward_s", "optimizer_s" }) Assert.True(step[key]!.GetValue<double>() > 0, key);
            // The model cache is complete and reused: a second build finds it.
            Assert.True(File.Exists(Path.Combine(scratch, "models", "tiny-seed0", "model.safetensors")));
            Assert.True(File.Exists(Path.Combine(scratch, "models", "tiny-seed1", "vocab.json")));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}

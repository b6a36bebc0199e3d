using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCoLLM.Learning.Benchmarking;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Bench;

public sealed class RoundBenchSettings : CommandSettings
{
    [CommandOption("--llm <SHAPE>"), Description("Server LLM shape: gpt2-124m-shape, gpt2-30m-shape or tiny (default gpt2-124m-shape).")]
    public string Llm { get; init; } = "gpt2-124m-shape";

    [CommandOption("--slm <SHAPE>"), Description("Client SLM shape (default gpt2-30m-shape).")]
    public string Slm { get; init; } = "gpt2-30m-shape";

    [CommandOption("--data <DIR>"), Description("Benchmark directory with prompt.json, clients/ and public/ (default data/wordnet).")]
    public string Data { get; init; } = "data/wordnet";

    [CommandOption("--cache <DIR>"), Description("Where the random-initialised models are built once (default runs/bench-models).")]
    public string Cache { get; init; } = "runs/bench-models";

    [CommandOption("--client-examples <N>"), Description("Training examples per client (default 32).")]
    public int ClientExamples { get; init; } = 32;

    [CommandOption("--public-examples <N>"), Description("Public examples for teacher logits and distillation (default 64).")]
    public int PublicExamples { get; init; } = 64;

    [CommandOption("--eval-items <N>"), Description("Test questions evaluated per model (default 16).")]
    public int EvalItems { get; init; } = 16;

    [CommandOption("--batch <B>"), Description("Batch size of the training phases (default 16, the built-in job's).")]
    public int Batch { get; init; } = 16;

    [CommandOption("--eval-batch <B>"), Description("Batch size of the teacher passes and evaluation (default 64, the built-in job's).")]
    public int EvalBatch { get; init; } = 64;

    [CommandOption("--threads <N>"), Description("libtorch intra-op threads (default 2).")]
    public int Threads { get; init; } = 2;

    [CommandOption("--profile-steps <N>"), Description("Timed repetitions of the LLM-distillation step breakdown (default 3).")]
    public int ProfileSteps { get; init; } = 3;

    [CommandOption("--peak-size <N>"), Description("n of the n×n matmuls that measure the fp32 peak (default 2048; smaller only for smoke tests).")]
    public int PeakSize { get; init; } = 2048;

    [CommandOption("--seed <N>")]
    public long Seed { get; init; }

    [CommandOption("--json <FILE>"), Description("Also write the results as one JSON object.")]
    public string? Json { get; init; }

    // --simulated: the real actors, journal, blob stores and transfers with simulated steps (OverheadBench).
    [CommandOption("--simulated"), Description("Measure orchestration overhead instead: the real actors, journal and transfers, each step a deterministic stub.")]
    public bool Simulated { get; init; }

    [CommandOption("--clients <K>"), Description("--simulated: simulated clients (default 16).")]
    public int Clients { get; init; } = 16;

    [CommandOption("--rounds <N>"), Description("--simulated: measured rounds after one warm-up; medians are reported (default 5).")]
    public int Rounds { get; init; } = 5;

    [CommandOption("--real-round-seconds <S>"), Description("--simulated: a real round of the built-in job, in seconds, to divide by.")]
    public double RealRoundSeconds { get; init; }

    [CommandOption("--real-round-source <TEXT>"), Description("--simulated: where --real-round-seconds comes from (recorded in the JSON).")]
    public string RealRoundSource { get; init; } = "";

    [CommandOption("--postgres"), Description("--simulated: journal to a fresh database on FEDCOLLM_POSTGRES instead of SQLite.")]
    public bool Postgres { get; init; }

    [CommandOption("--out <DIR>"), Description("--simulated: scratch directory (default runs/bench-round-simulated).")]
    public string Out { get; init; } = "runs/bench-round-simulated";

    public override ValidationResult Validate()
    {
        if (Simulated) return SimulatedRoundBench.Validate(this);
        foreach (var (name, value) in new[] { ("--client-examples", ClientExamples), ("--public-examples", PublicExamples), ("--eval-items", EvalItems), ("--batch", Batch), ("--threads", Threads), ("--profile-steps", ProfileSteps), ("--peak-size", PeakSize) })
            if (value < 1) return ValidationResult.Error($"{name} = {value}; it must be at least 1.");
        return ValidationResult.Success();
    }
}

/// <summary>`fedcollm bench round`: prints and writes what <see cref="RoundBenchmark"/> measures.</summary>
public sealed class RoundBenchCommand : AsyncCommand<RoundBenchSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RoundBenchSettings s, CancellationToken cancellation)
    {
        if (s.Simulated) return await SimulatedRoundBench.RunAsync(context, s);
        var options = new RoundBenchmarkOptions
        {
            Slm = BenchModelShape.Named(s.Slm, "--slm"),
            Llm = BenchModelShape.Named(s.Llm, "--llm"),
            ModelCache = s.Cache,
            DataDirectory = s.Data,
            ClientExamples = s.ClientExamples,
            PublicExamples = s.PublicExamples,
            EvaluationItems = s.EvalItems,
            BatchSize = s.Batch,
            EvalBatchSize = s.EvalBatch,
            Threads = s.Threads,
            Seed = s.Seed,
            ProfileSteps = s.ProfileSteps,
            PeakMatrixSize = s.PeakSize,
        };
        var r = RoundBenchmark.Run(options, ProcessMemory.PeakBytes, line => AnsiConsole.MarkupLineInterpolated($"[grey]{line}[/]"));

        var table = new Table().AddColumns("phase", "wall s", "peak RSS MiB", "tokens", "real of padded", "GFLOP/s", "of peak", "of matmul around");
        foreach (var p in r.Phases)
            table.AddRow(p.Name, $"{p.WallSeconds:F2}", p.PeakRssBytes is long b ? $"{b / 1048576.0:F0}" : "n/a", $"{p.Tokens}",
                p.PaddedTokens is long padded && padded > 0 ? $"{(double)p.Tokens / padded:P0}" : "",
                p.Flops > 0 ? $"{p.Gflops:F1}" : "", p.Flops > 0 ? $"{p.Gflops / r.MatmulPeakGflops:P0}" : "",
                p.Flops > 0 && p.MatmulGflopsAround is double m ? $"{p.Gflops / m:P0}" : "");
        AnsiConsole.Write(table);
        var b0 = r.LlmDistillationStep;
        AnsiConsole.MarkupLine($"fp32 matmul peak {r.MatmulPeakGflops:F1} GFLOP/s; round {r.RoundSeconds:F1} s");
        AnsiConsole.MarkupLine($"LLM distillation step ({b0.BatchRows}×{b0.BatchLength}, {b0.AnswerPositions} answer positions), s: batch {b0.Batch:F3}, "
            + $"forward {b0.Forward:F3} (LM head {b0.LmHeadForward:F3}), loss {b0.Loss:F3}, backward {b0.Backward:F3} (LM head {b0.LmHeadBackward:F3}), "
            + $"clip+AdamW {b0.Optimizer:F3}; replay total {b0.Total:F3} vs production median step {r.LlmDistillationStepSecondsMedian:F3}");

        if (s.Json is not null)
        {
            var phases = new JsonObject();
            foreach (var p in r.Phases)
                phases[p.Name] = new JsonObject
                {
                    ["model"] = p.Model?.ToString().ToLowerInvariant(),
                    ["training"] = p.Training,
                    ["runs"] = p.Runs,
                    ["wall_s"] = p.WallSeconds,
                    ["peak_rss_mb"] = p.PeakRssBytes is long b ? b / 1048576.0 : null,
                    ["tokens"] = p.Tokens,
                    ["answer_tokens"] = p.AnswerTokens,
                    ["padded_tokens"] = p.PaddedTokens,
                    ["real_of_padded"] = p.PaddedTokens is long padded && padded > 0 ? (double)p.Tokens / padded : null,
                    ["gflop"] = p.Flops / 1e9,
                    ["gflops"] = p.Flops > 0 ? p.Gflops : null,
                    ["fraction_of_peak"] = p.Flops > 0 ? p.Gflops / r.MatmulPeakGflops : null,
                    ["matmul_gflops_around"] = p.MatmulGflopsAround,
                    ["fraction_of_matmul_around"] = p.Flops > 0 && p.MatmulGflopsAround is double m ? p.Gflops / m : null,
                };
            var json = new JsonObject
            {
                ["benchmark"] = "round",
                ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd"),
                ["llm"] = ShapeJson(options.Llm),
                ["slm"] = ShapeJson(options.Slm),
                ["threads"] = s.Threads,
                ["clients"] = options.Clients,
                ["client_examples"] = s.ClientExamples,
                ["public_examples"] = s.PublicExamples,
                ["eval_items"] = s.EvalItems,
                ["batch"] = s.Batch,
                ["eval_batch"] = s.EvalBatch,
                ["max_length"] = r.Setup.MaxLength,
                ["lora_rank"] = r.Setup.LlmLora.Rank,
                ["flop_formula"] = "forward = sum 2*(P_blocks+P_lora)*t + 4*L*d*t^2 + 2*d*V*a; LoRA training = sum 4*P_blocks*t + 6*P_lora*t + 12*L*d*t^2 + 4*d*V*a (t tokens, a answer tokens per example; LM head only at answer positions)",
                ["matmul_peak_gflops"] = r.MatmulPeakGflops,
                ["matmul_peak_note"] = $"best n={s.PeakSize} torch.mm of the run (at start and around every model phase)",
                ["round_seconds"] = r.RoundSeconds,
                ["phases"] = phases,
                ["llm_distillation_step"] = new JsonObject
                {
                    ["batch_rows"] = b0.BatchRows, ["batch_length"] = b0.BatchLength, ["answer_positions"] = b0.AnswerPositions,
                    ["batch_s"] = b0.Batch, ["forward_s"] = b0.Forward, ["lm_head_forward_s"] = b0.LmHeadForward, ["loss_s"] = b0.Loss,
                    ["backward_s"] = b0.Backward, ["lm_head_backward_s"] = b0.LmHeadBackward, ["optimizer_s"] = b0.Optimizer,
                    ["total_s"] = b0.Total,
                    // NaN (JSON null) when the phase had a single optimizer step: the first interval includes the phase's set-up.
                    ["production_step_median_s"] = double.IsNaN(r.LlmDistillationStepSecondsMedian) ? null : r.LlmDistillationStepSecondsMedian,
                },
                ["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
            };
            File.WriteAllText(s.Json, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        }
        return 0;
    }

    static JsonObject ShapeJson(BenchModelShape shape) => new()
    {
        ["shape"] = shape.Name, ["layers"] = shape.Layers, ["d"] = shape.Width, ["heads"] = shape.Heads, ["n_ctx"] = shape.Context,
        ["vocab"] = shape.Vocab, ["parameters"] = shape.TotalParameters, ["block_matmul_parameters"] = shape.BlockMatmulParameters,
    };
}

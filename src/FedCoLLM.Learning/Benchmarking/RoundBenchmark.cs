using System.Diagnostics;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Evaluation;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Tokenization;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Learning.Benchmarking;

/// <summary>What <see cref="RoundBenchmark.Run"/> runs: two bench shapes, the data slices, the machine settings.</summary>
public sealed record RoundBenchmarkOptions
{
    public required BenchModelShape Slm { get; init; }
    public required BenchModelShape Llm { get; init; }
    /// <summary>Where the random-initialised model directories are cached (git-ignored runs/ by default).</summary>
    public required string ModelCache { get; init; }
    /// <summary>A built-in-style benchmark directory: prompt.json, clients/&lt;domain&gt;/{train,test}.jsonl, public/train.jsonl.</summary>
    public required string DataDirectory { get; init; }
    public int Clients { get; init; } = 2;
    public int ClientExamples { get; init; } = 32;
    public int PublicExamples { get; init; } = 32;
    public int EvaluationItems { get; init; } = 16;
    /// <summary>Batch size of the training phases (the built-in job's: 16).</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Batch size of the teacher passes and evaluation (the built-in job's <c>data.evaluation.batch-size</c>: 64).</summary>
    public int EvalBatchSize { get; init; } = 64;
    public int Threads { get; init; } = 2;
    public long Seed { get; init; } = 0;
    /// <summary>Timed repetitions of the LLM-distillation step breakdown.</summary>
    public int ProfileSteps { get; init; } = 3;
    /// <summary>n of the n×n matmuls that measure the machine's peak.</summary>
    public int PeakMatrixSize { get; init; } = 2048;
}

/// <summary>One phase of the round: what it cost and how close to the matmul peak it ran.</summary>
public sealed record RoundPhase(string Name, ModelKind? Model, bool Training, int Runs, double WallSeconds, long? PeakRssBytes,
    long Tokens, long AnswerTokens, double Flops)
{
    public double Gflops => Flops / WallSeconds / 1e9;

    /// <summary>The matmul rate measured right before and right after the phase (mean of the two): on a shared machine
    /// the rate the phase could have had, so Gflops / this is its efficiency net of other load.</summary>
    public double? MatmulGflopsAround { get; init; }

    /// <summary>The token positions one pass of the phase's batches holds once each row is padded to its batch's longest:
    /// forward phases, InferencePass's length-sorted batches at the evaluation batch size; distillations, the training batch
    /// size's length-sorted batches, which are what BatchPlan.LengthBucketed makes when the examples fit one of its pools
    /// (in another order). Tokens / this is the share of the work that is real; the FLOPs above count real tokens only.
    /// Null where not computed (client SFT: several clients' batches).</summary>
    public long? PaddedTokens { get; init; }
}

public sealed record RoundBenchmarkResult(
    double MatmulPeakGflops, double RoundSeconds, IReadOnlyList<RoundPhase> Phases, StepBreakdown LlmDistillationStep,
    double LlmDistillationStepSecondsMedian, string SlmDirectory, string LlmDirectory, FederationSetup Setup);

/// <summary>
/// <c>fedcollm bench round</c>: ONE FedCoLLM round on real-size random models, in-process, through the production
/// <see cref="FederationSteps"/> a job's actors call (client SFT on each client, FedAvg, LLM teacher logits, LLM → SLM
/// distillation, SLM teacher logits, SLM → LLM distillation, evaluation of both), with the built-in job's settings
/// (<see cref="FederationSetup.Default"/>) on small slices of the data. Every phase is timed and its peak RSS taken
/// by the caller's <c>measure</c>; FLOPs follow <see cref="PhaseFlops"/>.
/// </summary>
public static class RoundBenchmark
{
    /// <param name="peakRss">Runs a region and returns the process's peak resident set during it (null where the OS cannot tell).</param>
    public static RoundBenchmarkResult Run(RoundBenchmarkOptions o, Func<Action, long?> peakRss, Action<string>? log = null)
    {
        log ??= _ => { };
        var clients = Directory.GetDirectories(Path.Combine(o.DataDirectory, "clients")).Order(StringComparer.Ordinal).Take(o.Clients).ToList();
        if (clients.Count < o.Clients)
            throw new ArgumentException($"--data {o.DataDirectory}: {clients.Count} client folders under clients/, {o.Clients} needed.");
        string publicSet = Path.Combine(o.DataDirectory, "public", "train.jsonl");
        string testSet = Path.Combine(clients[0], "test.jsonl");

        log($"models: {o.Slm.Name}, {o.Llm.Name} (cache {o.ModelCache})");
        var slmDir = RandomModelDirectory.Ensure(o.ModelCache, o.Slm, o.Seed);
        var llmDir = RandomModelDirectory.Ensure(o.ModelCache, o.Llm, o.Seed + 1);
        log($"measuring the fp32 matmul peak ({o.Threads} threads)");
        var peaks = new List<double> { MatmulPeak.MeasureGflops(o.Threads, o.PeakMatrixSize) };
        double Probe() { double g = MatmulPeak.MeasureGflops(o.Threads, o.PeakMatrixSize, repeats: 3); peaks.Add(g); return g; }

        var prompt = QaPromptFormat.Load(Path.Combine(o.DataDirectory, "prompt.json"));
        var baseline = FederationSetup.Default(slmDir, llmDir, prompt);
        var setup = baseline with
        {
            MaxClientExamples = o.ClientExamples,
            MaxPublicExamples = o.PublicExamples,
            ClientTraining = baseline.ClientTraining with { BatchSize = o.BatchSize },
            SlmDistillation = baseline.SlmDistillation with { BatchSize = o.BatchSize },
            LlmDistillation = baseline.LlmDistillation with { BatchSize = o.BatchSize },
            EvalBatchSize = o.EvalBatchSize,
            Compute = baseline.Compute with { Threads = o.Threads, Seed = o.Seed },
        };
        var tokenizer = TokenizerFiles.Load(slmDir);
        List<(int, int)> SizesOf(string file, int n) =>
            PhaseFlops.Sizes(MultipleChoiceJsonl.Load(file).Take(n).Select(i => setup.Prompt.TrainingExample(i, tokenizer)).ToList(), setup.MaxLength);
        List<(int, int)> ChoiceSizes(int n) =>
            PhaseFlops.Sizes(MultipleChoiceEvaluator.Prepare(MultipleChoiceJsonl.Load(testSet).Take(n).ToList(), setup.Prompt, tokenizer)
                .SelectMany(q => q.Choices).ToList(), setup.MaxLength);
        // LengthBucketed sorts pools of 32 batches: with no more examples than that, its batches are the length-sorted ones.
        int? OnePool(List<(int, int)> sizes) => sizes.Count <= 32 * o.BatchSize ? o.BatchSize : null;
        BenchModelShape ShapeOf(ModelKind kind) => kind == ModelKind.Slm ? o.Slm : o.Llm;
        int RankOf(ModelKind kind) => setup.LoraOf(kind).Rank;

        var phases = new List<RoundPhase>();
        T Phase<T>(string name, ModelKind? model, bool training, int runs, List<(int Tokens, int Answer)> sizes, Func<T> body, int? paddingBatch = null)
        {
            log(name);
            T result = default!;
            // Training and inference phases are bracketed by matmul probes (the machine is shared: load changes by the minute).
            double? before = model is null ? null : Probe();
            var clock = Stopwatch.StartNew();
            long? rss = peakRss(() => result = body());
            double wall = clock.Elapsed.TotalSeconds;
            double? around = before is double b ? (b + Probe()) / 2 : null;
            double flops = model is ModelKind kind
                ? (training ? PhaseFlops.Training(ShapeOf(kind), RankOf(kind), sizes) : PhaseFlops.Forward(ShapeOf(kind), RankOf(kind), sizes))
                : 0;
            phases.Add(new RoundPhase(name, model, training, runs, wall, rss,
                sizes.Sum(s => (long)s.Tokens), sizes.Sum(s => (long)s.Answer), flops)
            {
                MatmulGflopsAround = around,
                PaddedTokens = (paddingBatch ?? (training ? null : o.EvalBatchSize)) is int batch && model is not null
                    ? PaddedTokens(sizes.Select(s => s.Tokens).ToList(), batch) : null,
            });
            return result;
        }

        using var steps = new FederationSteps(setup);
        var slm = steps.InitialAdapter(ModelKind.Slm, o.Seed);
        var llm = steps.InitialAdapter(ModelKind.Llm, o.Seed + 1);
        // Loading: reads the weights and runs one question, so that libtorch's first-call costs are not billed to a phase.
        Phase("load_slm", ModelKind.Slm, false, 1, ChoiceSizes(1), () => steps.Evaluate(ModelKind.Slm, slm, testSet, 1));
        Phase("load_llm", ModelKind.Llm, false, 1, ChoiceSizes(1), () => steps.Evaluate(ModelKind.Llm, llm, testSet, 1));

        var clientSizes = clients.SelectMany(c => SizesOf(Path.Combine(c, "train.jsonl"), o.ClientExamples)).ToList();
        var updates = Phase("slm_client_sft", ModelKind.Slm, true, clients.Count, clientSizes, () =>
            clients.Select((c, k) => steps.TrainClient(slm, Path.Combine(c, "train.jsonl"), o.Seed + 10 + k)).ToList());
        slm = Phase("fedavg", null, false, 1, [], () => steps.Aggregate(updates.Select(u => (u.Adapter, u.SampleCount)).ToList()));

        var publicSizes = SizesOf(publicSet, o.PublicExamples);
        var llmTeacher = Phase("llm_teacher_logits", ModelKind.Llm, false, 1, publicSizes, () => steps.TeacherLogits(ModelKind.Llm, llm, publicSet));
        slm = Phase("slm_distillation", ModelKind.Slm, true, 1, publicSizes, () => steps.Distill(ModelKind.Slm, slm, llmTeacher, publicSet, o.Seed + 20).Adapter, OnePool(publicSizes));
        var slmTeacher = Phase("slm_teacher_logits", ModelKind.Slm, false, 1, publicSizes, () => steps.TeacherLogits(ModelKind.Slm, slm, publicSet));
        var stepTimes = new StepTimes();
        var llmBefore = llm;
        llm = Phase("llm_distillation", ModelKind.Llm, true, 1, publicSizes, () => steps.Distill(ModelKind.Llm, llm, slmTeacher, publicSet, o.Seed + 21, stepTimes).Adapter, OnePool(publicSizes));

        var evalSizes = ChoiceSizes(o.EvaluationItems);
        Phase("slm_evaluation", ModelKind.Slm, false, 1, evalSizes, () => steps.Evaluate(ModelKind.Slm, slm, testSet, o.EvaluationItems));
        Phase("llm_evaluation", ModelKind.Llm, false, 1, evalSizes, () => steps.Evaluate(ModelKind.Llm, llm, testSet, o.EvaluationItems));
        // The round's time without the probes between phases.
        double roundSeconds = phases.Sum(p => p.WallSeconds);

        log("profiling one LLM distillation step");
        var publicExamples = MultipleChoiceJsonl.Load(publicSet).Take(o.PublicExamples).Select(i => setup.Prompt.TrainingExample(i, tokenizer)).ToList();
        var breakdown = StepBreakdown.Measure(llmDir, setup, ModelKind.Llm, llmBefore, slmTeacher, publicExamples, publicSet, o.ProfileSteps);
        return new RoundBenchmarkResult(peaks.Max(), roundSeconds, phases, breakdown, Median(stepTimes.Seconds), slmDir, llmDir, setup);
    }

    /// <summary>Positions in InferencePass's batches (<see cref="BatchPlan.ByLength"/>): each batch's rows × its longest row.</summary>
    static long PaddedTokens(IReadOnlyList<int> lengths, int batchSize) =>
        BatchPlan.ByLength(lengths, batchSize).Sum(batch => (long)batch.Length * batch.Max(i => lengths[i]));

    static double Median(IReadOnlyList<double> xs)
    {
        if (xs.Count == 0) return double.NaN;
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>Seconds between optimizer steps (synchronous, unlike Progress&lt;T&gt;); the first includes the phase's setup and is dropped.</summary>
    sealed class StepTimes : IProgress<TrainingProgress>
    {
        readonly Stopwatch clock = Stopwatch.StartNew();
        double last;
        bool first = true;
        public List<double> Seconds { get; } = [];

        public void Report(TrainingProgress value)
        {
            double now = clock.Elapsed.TotalSeconds;
            if (!first) Seconds.Add(now - last);
            first = false;
            last = now;
        }
    }
}

using System.Text.Json;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Tokenization;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Learning.Pretraining;

/// <summary>What a finished pre-training produced: the model directory and its training history.</summary>
public sealed record PretrainResult(string OutputDirectory, long Parameters, int Sequences, long TokensSeen, TrainingReport Report);

/// <summary>
/// Pre-trains a preset from scratch on a plain-text corpus (one sentence per line) and writes a Hugging Face
/// directory: config.json, model.safetensors (float16), the tokenizer files and training.json. Checkpoints every
/// <c>checkpointEvery</c> steps under OUT/checkpoint; running again with the same arguments resumes from there.
/// </summary>
public static class Pretrainer
{
    public const string HistoryFile = "training.json";
    static readonly string[] TokenizerFileNames = ["vocab.json", "merges.txt", "tokenizer.model"];

    public static PretrainResult Run(
        PretrainPreset preset,
        string corpusPath,
        string tokenizerDirectory,
        string outputDirectory,
        long seed,
        ComputeOptions compute,
        int checkpointEvery = 100,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellation = default)
    {
        if (!File.Exists(corpusPath))
            throw new FileNotFoundException($"Pre-training corpus '{corpusPath}' not found; generate it with `fedcollm data wordnet`.", corpusPath);
        var tokenizer = TokenizerFiles.Load(tokenizerDirectory);
        var sequences = CorpusPacking.Pack(File.ReadLines(corpusPath), tokenizer.Encode, tokenizer.EosId, preset.Context);
        if (sequences.Count < preset.BatchSize)
            throw new InvalidDataException($"'{corpusPath}' yields {sequences.Count} sequences of {preset.Context} tokens, fewer than one batch of {preset.BatchSize}.");

        compute.Apply(seed);
        using var model = new Gpt2Model(preset.ModelConfig(tokenizer.VocabSize));
        model.InitializeForPretraining();
        int stepsPerEpoch = (sequences.Count + preset.BatchSize - 1) / preset.BatchSize;
        var settings = new TrainingSettings
        {
            Epochs = (preset.Steps + stepsPerEpoch - 1) / stepsPerEpoch,
            MaxSteps = preset.Steps,
            BatchSize = preset.BatchSize,
            MaxLength = preset.Context,
            Seed = seed,
            // GPT-style recipe scaled to tiny models: AdamW β2 = 0.95, decoupled weight decay 0.1, cosine with warm-up.
            Optimizer = new OptimizerSettings
            {
                LearningRate = preset.LearningRate, Beta2 = 0.95, WeightDecay = 0.1, MaxGradNorm = 1.0,
                Schedule = LearningRateScheduleKind.CosineWithWarmup, WarmupRatio = 0.03,
            },
        };
        var checkpoints = new TrainingCheckpoints(Path.Combine(outputDirectory, "checkpoint"), checkpointEvery,
            SaveModel: dir => PretrainedModels.Save(model, dir),
            LoadModel: dir => PretrainedModels.LoadWeights(model, dir));
        var report = TrainingLoop.Run($"pretrain-{preset.Name}", model, sequences, settings, compute,
            // Every position but the first is a target here, so the full [B, T, V] logits are what the loss reads.
            pass => Losses.AnswerCrossEntropy.Mean(pass.Logits(), pass.Batch.Labels), progress, cancellation, checkpoints);

        // Stored as float16: half the repository size for the committed built-in models; loading widens to float32.
        PretrainedModels.Save(model, outputDirectory, TorchSharp.torch.ScalarType.Float16);
        foreach (var name in TokenizerFileNames)
        {
            var source = Path.Combine(tokenizerDirectory, name);
            if (File.Exists(source)) File.Copy(source, Path.Combine(outputDirectory, name), overwrite: true);
        }
        long parameters = model.parameters().Sum(p => p.numel());
        long tokens = (long)report.Steps * preset.BatchSize * (preset.Context - 1);
        var result = new PretrainResult(outputDirectory, parameters, sequences.Count, tokens, report);
        File.WriteAllText(Path.Combine(outputDirectory, HistoryFile), JsonSerializer.Serialize(new
        {
            preset,
            seed,
            threads = compute.Threads,
            parameters,
            sequences = sequences.Count,
            tokens_seen = tokens,
            steps = report.Steps,
            wall_seconds = report.Elapsed.TotalSeconds,
            step_losses = report.StepLosses,
        }, new JsonSerializerOptions { WriteIndented = true }));
        Directory.Delete(Path.Combine(outputDirectory, "checkpoint"), recursive: true);
        return result;
    }
}

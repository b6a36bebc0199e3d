using FedCoLLM.Learning.Training;

namespace FedCoLLM.Actors.Jobs;

/// <summary>One block of <c>job.training</c>. The defaults are <see cref="FedCoLLM.Learning.Federation.FederationSetup.Default"/>'s
/// phase; AdamW's β and ε are not job keys and stay at <see cref="OptimizerSettings"/>' defaults.</summary>
public sealed record JobPhase
{
    public int Epochs { get; init; } = 1;
    public int BatchSize { get; init; } = 16;
    public int GradientAccumulation { get; init; } = 1;
    public int? MaxSteps { get; init; }
    public double LearningRate { get; init; } = 2e-3;
    public LearningRateScheduleKind Schedule { get; init; } = LearningRateScheduleKind.CosineWithWarmup;
    public double WarmupRatio { get; init; } = 0.05;
    public double WeightDecay { get; init; }
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>Client phase: examples of the client's file; SLM distillation: public examples (teacher passes and both
    /// distillation directions share that cap). Null: all.</summary>
    public int? MaxExamples { get; init; }

    /// <summary>The learning core's settings; <paramref name="maxLength"/> is <c>data.max-length</c> (the core ignores a
    /// phase's own MaxLength and Seed, see FederationSetup, so the seed stays at its default).</summary>
    public TrainingSettings ToSettings(int maxLength) => new()
    {
        Epochs = Epochs,
        BatchSize = BatchSize,
        GradientAccumulationSteps = GradientAccumulation,
        MaxSteps = MaxSteps,
        MaxLength = maxLength,
        Optimizer = new OptimizerSettings
        {
            LearningRate = LearningRate,
            Schedule = Schedule,
            WarmupRatio = WarmupRatio,
            WeightDecay = WeightDecay,
            MaxGradNorm = MaxGradNorm,
        },
    };
}

/// <summary><c>job.training</c>. <see cref="LlmFineTuning"/> is null unless the job (strategy centralized) sets it; the
/// server's SFT then uses <see cref="Client"/>'s settings.</summary>
public sealed record JobTraining(JobPhase Client, JobPhase SlmDistillation, JobPhase LlmDistillation, JobPhase? LlmFineTuning);

namespace FedCoLLM.Learning.Training;

/// <summary>How long and in what shape one training phase runs.</summary>
public sealed record TrainingSettings
{
    public int Epochs { get; init; } = 1;
    /// <summary>Examples per micro-batch (one forward/backward).</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>Micro-batches per optimizer step; the effective batch is BatchSize × this.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary>Stops after this many optimizer steps even if epochs remain; null = run all epochs.</summary>
    public int? MaxSteps { get; init; }
    /// <summary>Longest token sequence; longer prompts are truncated from the left.</summary>
    public int MaxLength { get; init; } = 512;
    public OptimizerSettings Optimizer { get; init; } = new();
    /// <summary>Seeds shuffling and dropout; with a fixed thread count the run is bit-reproducible.</summary>
    public long Seed { get; init; } = 42;

    public void Validate()
    {
        OptimizerSettings.Require(Epochs >= 1, nameof(Epochs), "at least 1");
        OptimizerSettings.Require(BatchSize >= 1, nameof(BatchSize), "at least 1");
        OptimizerSettings.Require(GradientAccumulationSteps >= 1, nameof(GradientAccumulationSteps), "at least 1");
        OptimizerSettings.Require(MaxSteps is null or >= 1, nameof(MaxSteps), "at least 1, or leave it unset");
        OptimizerSettings.Require(MaxLength >= 2, nameof(MaxLength), "at least 2 tokens");
        Optimizer.Validate();
    }
}

namespace FedCoLLM.Learning.Training;

/// <summary>Learning-rate multipliers as transformers' get_constant_schedule and
/// get_cosine_schedule_with_warmup (num_cycles = 0.5) compute them.</summary>
public static class LearningRateSchedule
{
    public static double Factor(LearningRateScheduleKind kind, int step, int totalSteps, int warmupSteps)
    {
        if (kind == LearningRateScheduleKind.Constant) return 1.0;
        if (step < warmupSteps) return (double)step / Math.Max(1, warmupSteps);
        double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * progress)));
    }

    public static int WarmupSteps(OptimizerSettings o, int totalSteps) =>
        o.Schedule == LearningRateScheduleKind.CosineWithWarmup ? (int)Math.Ceiling(o.WarmupRatio * totalSteps) : 0;
}

using FedCoLLM.Learning.Training;

namespace FedCoLLM.Learning.Tests.Training;

public class LearningRateScheduleTests
{
    [Theory]
    [InlineData(0, 0.0)]      // warm-up starts at zero, as transformers' schedule
    [InlineData(5, 0.5)]
    [InlineData(10, 1.0)]     // peak at the end of warm-up
    [InlineData(55, 0.5)]     // half-way through the cosine
    [InlineData(100, 0.0)]
    public void Cosine_with_warmup_follows_transformers(int step, double expected)
    {
        Assert.Equal(expected, LearningRateSchedule.Factor(LearningRateScheduleKind.CosineWithWarmup, step, totalSteps: 100, warmupSteps: 10), 12);
    }

    [Fact]
    public void Constant_schedule_is_one_everywhere()
    {
        Assert.All(Enumerable.Range(0, 50), s => Assert.Equal(1.0, LearningRateSchedule.Factor(LearningRateScheduleKind.Constant, s, 50, 5)));
    }

    [Fact]
    public void Invalid_settings_name_the_field_and_the_fix()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TrainingSettings { BatchSize = 0 }.Validate());
        Assert.Equal("BatchSize", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => new OptimizerSettings { LearningRate = -1 }.Validate());
        Assert.Contains("LearningRate", ex.Message);
    }
}

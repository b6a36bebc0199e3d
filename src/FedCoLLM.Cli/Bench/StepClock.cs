using System.Diagnostics;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Cli.Bench;

/// <summary>Synchronous IProgress that timestamps every optimizer step (Progress&lt;T&gt; would post asynchronously).</summary>
sealed class StepClock : IProgress<TrainingProgress>
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    double last;
    public List<double> Durations { get; } = new();

    public void Report(TrainingProgress value)
    {
        double now = clock.Elapsed.TotalSeconds;
        Durations.Add(now - last);
        last = now;
    }
}

/// <summary>The SFT benches' synthetic examples: random token ids from seed 0, the first half of each sequence the
/// prompt and the second half the answer.</summary>
static class RandomSftExamples
{
    public static List<TokenizedExample> Make(int count, int sequence, int vocabulary)
    {
        var random = new Random(0);
        int half = sequence / 2;
        return Enumerable.Range(0, count)
            .Select(_ => new TokenizedExample(RandomIds(random, half, vocabulary), RandomIds(random, sequence - half, vocabulary)))
            .ToList();
    }

    static int[] RandomIds(Random random, int n, int vocab) => Enumerable.Range(0, n).Select(_ => random.Next(vocab)).ToArray();
}

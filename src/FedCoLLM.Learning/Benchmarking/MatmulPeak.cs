using System.Diagnostics;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Benchmarking;

/// <summary>The machine's fp32 matrix-multiply rate as libtorch reaches it: the best of several n×n·n×n
/// <c>torch.mm</c> (2n³ FLOPs each) at the given thread count. The ceiling a training phase's GFLOP/s is compared with.</summary>
public static class MatmulPeak
{
    public static double MeasureGflops(int threads, int n = 2048, int repeats = 7)
    {
        set_num_threads(threads);
        using var scope = NewDisposeScope();
        var generator = new Generator(0);
        var a = randn(n, n, generator: generator);
        var b = randn(n, n, generator: generator);
        mm(a, b).Dispose(); // warm-up: page faults of the first output, thread-pool start
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            using (mm(a, b)) best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * (double)n / best / 1e9;
    }
}

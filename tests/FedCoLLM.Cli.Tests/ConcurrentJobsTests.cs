using System.Diagnostics;
using Xunit.Abstractions;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// Two jobs in one `fedcollm run` process share the clients' silos and the process-wide TorchSharp gate: their steps
/// queue and interleave. Each step pins its job's thread count and reseeds libtorch, so neither job may see the other:
/// each ends with the adapters it gets when it runs alone, bit for bit.
/// </summary>
[Collection(ChildProcesses.Name)]
public class ConcurrentJobsTests(ITestOutputHelper log)
{
    [Fact]
    public async Task Two_jobs_run_at_once_in_one_process_each_end_with_the_adapters_of_running_it_alone()
    {
        using var jobs = new TempDir();
        // Different ids and seeds, the same two clients.
        var a = TestJobs.Write(jobs.Path, "a", [.. TestJobs.Small, "job.id = a", "job.seed = 7"]);
        var b = TestJobs.Write(jobs.Path, "b", [.. TestJobs.Small, "job.id = b", "job.seed = 11"]);

        using var together = new TempDir();
        var clock = Stopwatch.StartNew();
        var (code, output) = await Fedcollm.Run(["run", a, b, "--out", together.Path]);
        Assert.True(code == 0, output);
        log.WriteLine($"both jobs in one run: {clock.Elapsed.TotalSeconds:F0} s");
        AssertInterleaved(output, "a", "b");

        using var aloneA = new TempDir();
        clock.Restart();
        (code, output) = await Fedcollm.Run(["run", a, "--out", aloneA.Path]);
        Assert.True(code == 0, output);
        log.WriteLine($"job a alone: {clock.Elapsed.TotalSeconds:F0} s");
        using var aloneB = new TempDir();
        clock.Restart();
        (code, output) = await Fedcollm.Run(["run", b, "--out", aloneB.Path]);
        Assert.True(code == 0, output);
        log.WriteLine($"job b alone: {clock.Elapsed.TotalSeconds:F0} s");

        var expectedA = RunOutputs.FinalHashes(aloneA.Path, "a", 1);
        var expectedB = RunOutputs.FinalHashes(aloneB.Path, "b", 1);
        Assert.NotEqual(expectedA, expectedB); // the seeds matter, so equality below is not vacuous
        Assert.Equal(expectedA, RunOutputs.FinalHashes(together.Path, "a", 1));
        Assert.Equal(expectedB, RunOutputs.FinalHashes(together.Path, "b", 1));
    }

    /// <summary>The redirected watch prints "[JOB] round r/n attempt k · PHASE" on every phase change. Each job left its
    /// first phase before the other completed, so their steps really did take turns in the one process.</summary>
    static void AssertInterleaved(string output, string first, string second)
    {
        var lines = output.Split('\n');
        // The second phase line of a job: it has left the phase the first poll found it in.
        int Moved(string job) => Enumerable.Range(0, lines.Length).Where(i => lines[i].Contains($"[{job}] round ")).Skip(1).DefaultIfEmpty(-1).First();
        int Ended(string job) => Array.FindIndex(lines, l => l.Contains($"[{job}] round ") && l.Contains("· Completed"));
        foreach (var job in new[] { first, second }) Assert.True(Moved(job) >= 0 && Ended(job) >= 0, $"no phase lines of job {job}:\n{output}");
        Assert.True(Moved(first) < Ended(second) && Moved(second) < Ended(first), $"the jobs ran one after the other:\n{output}");
    }
}

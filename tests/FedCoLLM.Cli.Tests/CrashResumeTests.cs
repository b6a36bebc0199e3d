using System.Diagnostics;
using System.Text.Json.Nodes;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// The promise of the design: kill -9 at any moment, run the same command again, and the federation ends with
/// bit-identical adapters. Each run is a real `fedcollm run` child process on its own SQLite journal.
/// </summary>
[Collection(ChildProcesses.Name)]
public class CrashResumeTests
{
    const int Rounds = 2;
    const string Job = "crash";

    static string[] Arguments(string jobs) => ["run", TestJobs.Write(jobs, Job, $"job.id = {Job}", $"job.rounds = {Rounds}", "job.seed = 7")];

    [Fact]
    public async Task Killing_the_run_at_several_phases_and_rerunning_yields_the_adapters_of_an_uninterrupted_run()
    {
        using var jobs = new TempDir();
        using var reference = new TempDir();
        var (code, output) = await Fedcollm.Run([.. Arguments(jobs.Path), "--out", reference.Path]);
        Assert.True(code == 0, output);
        var expected = FinalHashes(reference.Path);

        using var crashed = new TempDir();
        // SIGKILL inside four different phases (after the phase has had a moment to start its work).
        string[] killPoints =
        [
            "round 1/2 attempt 1 · ClientsTraining",
            "round 1/2 attempt 1 · SlmDistillation",
            "round 1/2 attempt 1 · Evaluating",
            "round 2/2 attempt 1 · LlmDistillation",
        ];
        foreach (var point in killPoints)
        {
            var killed = await Fedcollm.RunUntilKilled([.. Arguments(jobs.Path), "--out", crashed.Path], point, TimeSpan.FromSeconds(1.5));
            Assert.True(killed, $"the run finished before reaching \"{point}\"");
        }
        (code, output) = await Fedcollm.Run([.. Arguments(jobs.Path), "--out", crashed.Path]);
        Assert.True(code == 0, output);
        Assert.Contains("Resuming job", output);
        Assert.Equal(expected, FinalHashes(crashed.Path));

        // The same command on a finished run reports it instead of training again.
        (code, output) = await Fedcollm.Run([.. Arguments(jobs.Path), "--out", crashed.Path]);
        Assert.True(code == 0, output);
        Assert.Contains("already ended", output);
        Assert.Equal(expected, FinalHashes(crashed.Path));
    }

    static (string Slm, string Llm) FinalHashes(string runDir)
    {
        var outDir = Path.Combine(runDir, Job);
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")))!;
        var final = report["final"]!;
        Assert.Equal(Rounds, final["round"]!.GetValue<int>());
        var slm = final["slm_adapter_sha256"]!.GetValue<string>();
        var llm = final["llm_adapter_sha256"]!.GetValue<string>();
        // The exported PEFT files are the committed blobs, byte for byte.
        Assert.Equal(slm, Sha256(Path.Combine(outDir, "final", "slm", "adapter_model.safetensors")));
        Assert.Equal(llm, Sha256(Path.Combine(outDir, "final", "llm", "adapter_model.safetensors")));
        return (slm, llm);
    }

    static string Sha256(string path) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
}

/// <summary>Runs the real `fedcollm` executable (built next to the tests) as a child process from the repository root.</summary>
static class Fedcollm
{
    static readonly TimeSpan Limit = TimeSpan.FromMinutes(6);

    public static ProcessStartInfo StartInfo(IEnumerable<string> args) => Chaos.NodeProcess.StartInfo(args, Repository.Root);

    public static Task<(int ExitCode, string Output)> Run(IEnumerable<string> args) => Run(StartInfo(args), Limit);

    public static async Task<(int ExitCode, string Output)> Run(ProcessStartInfo info, TimeSpan limit)
    {
        var (code, stdout, stderr) = await RunApart(info, limit);
        return (code, stdout + stderr);
    }

    /// <summary>Like <see cref="Run(IEnumerable{string})"/>, with stdout and stderr kept apart.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunApart(IEnumerable<string> args) => RunApart(StartInfo(args), Limit);

    static async Task<(int ExitCode, string Stdout, string Stderr)> RunApart(ProcessStartInfo info, TimeSpan limit)
    {
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts a run and SIGKILLs it <paramref name="delay"/> after it prints <paramref name="line"/>;
    /// false when the run ended on its own first.</summary>
    public static async Task<bool> RunUntilKilled(IEnumerable<string> args, string line, TimeSpan delay)
    {
        using var process = Process.Start(StartInfo(args))!;
        _ = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Limit);
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } text)
        {
            if (!text.Contains(line, StringComparison.Ordinal)) continue;
            await Task.Delay(delay, timeout.Token);
            if (process.HasExited) return false;
            process.Kill(entireProcessTree: true); // SIGKILL: no shutdown hooks, no flush.
            await process.WaitForExitAsync(timeout.Token);
            return true;
        }
        await process.WaitForExitAsync(timeout.Token);
        return false;
    }
}

static class Repository
{
    public static string Root { get; } = Find();

    static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FedCoLLM.Actors.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("repository root not found above " + AppContext.BaseDirectory);
    }
}

sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("fedcollm-run-").FullName;
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>The tests that start `fedcollm` processes (whole runs, clusters of nodes) run one at a time: on CI's two
/// cores, several at once starve the cluster nodes' failure detectors and make the timings meaningless.</summary>
[CollectionDefinition(Name)]
public sealed class ChildProcesses
{
    public const string Name = "fedcollm child processes";
}

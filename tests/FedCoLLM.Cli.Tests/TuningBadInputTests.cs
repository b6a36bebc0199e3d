namespace FedCoLLM.Cli.Tests;

/// <summary>`fedcollm experiment --tune` with options that contradict it, through the real process: refused at once, the
/// message naming the option and the fix, and nothing started (no journal).</summary>
[Collection(ChildProcesses.Name)]
public sealed class TuningBadInputTests
{
    [Theory]
    [InlineData("--lr-client", "1e-3", "--lr-client")]
    [InlineData("--tune-lr", "1e-3,fast", "--tune-lr: \"fast\"")]
    public async Task Experiment_tune_refuses_a_contradicting_option_before_anything_runs(string option, string value, string named)
    {
        using var dir = new TempDir();
        var outDir = Path.Combine(dir.Path, "out");
        var (code, output) = await Fedcollm.Run(Fedcollm.StartInfo(["experiment", "--quick", "--tune", option, value, "--out", outDir]), TimeSpan.FromSeconds(60));
        Assert.True(code == 2, output);
        Assert.Contains("Refused", output);
        Assert.Contains(named, output.Replace("\n", ""));
        Assert.False(File.Exists(Path.Combine(outDir, "journal.db")), "a refused experiment must leave no journal behind");
        Assert.False(Directory.Exists(Path.Combine(outDir, "tuning", "jobs")), "a refused tuning must write no job file");
    }
}

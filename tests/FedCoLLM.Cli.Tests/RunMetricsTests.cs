using System.Diagnostics;
using FedCoLLM.Cli.Chaos;
using Xunit.Abstractions;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// <c>/metrics</c> of a `fedcollm run` (FEDCOLLM_HTTP_PORT): after round 1 every series the issue asks for is there, the
/// body passes <c>promtool check metrics</c>, and a real Prometheus scraping the port every second answers a query for
/// round 1's evaluation accuracy. The job is the quick one made small, with three rounds so the run is still up (in
/// rounds 2 and 3, killed when the test ends) while the test reads round 1.
/// </summary>
[Collection(ChildProcesses.Name)]
public class RunMetricsTests(ITestOutputHelper log)
{
    const string Job = "metrics";

    static readonly string[] Series =
    [
        "fedcollm_round_duration_seconds_bucket", "fedcollm_phase_duration_seconds_bucket", "fedcollm_client_transfer_bytes_total",
        "fedcollm_loss", "fedcollm_evaluation_accuracy", "fedcollm_journal_write_duration_seconds_bucket", "fedcollm_journal_write_events_bucket", "fedcollm_cluster_members",
        "fedcollm_steps_in_flight", "fedcollm_steps_queued",
    ];

    [PrometheusFact]
    public async Task Metrics_after_round_one_pass_promtool_and_reach_a_real_prometheus()
    {
        if (PrometheusTools.SkipReason is { } missing) Assert.Fail(missing + " This is a CI run: install them (.ci/run does)."); // not reached locally: the attribute skips
        using var dir = new TempDir();
        var jobFile = TestJobs.Write(dir.Path, Job, [$"job.id = {Job}", "job.rounds = 3", .. TestJobs.Small]);
        var httpPort = LoopbackLayout.FreePorts(1)[0];
        using var prometheus = new PrometheusServer(httpPort);
        var info = Fedcollm.StartInfo(["run", jobFile, "--out", Path.Combine(dir.Path, "out")]);
        info.Environment["FEDCOLLM_HTTP_PORT"] = $"{httpPort}";
        using var run = NodeProcess.Start("run", info);

        // The watcher prints round 2's first phase after round 1 committed.
        var deadline = Stopwatch.StartNew();
        while (!run.Saw("round 2/3 attempt 1 ·"))
        {
            if (run.HasExited) Assert.Fail($"the run exited ({run.ExitCode}) before round 2:\n{run.Output}");
            if (deadline.Elapsed > TimeSpan.FromMinutes(6)) Assert.Fail("round 1 did not commit within 6 minutes:\n" + run.Output);
            await Task.Delay(200);
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var body = await http.GetStringAsync($"http://127.0.0.1:{httpPort}/metrics");
        foreach (var series in Series) Assert.Contains("\n" + series + "{", body);
        Assert.Contains("round=\"1\"", body);
        var (code, lint) = await Promtool(body);
        Assert.True(code == 0 && lint.Trim().Length == 0, $"promtool check metrics ({code}):\n{lint}\n{body}");

        // Prometheus scrapes every second; round 1's SLM accuracy on the evaluation set must arrive within a few scrapes.
        double? accuracy = null;
        var polled = Stopwatch.StartNew();
        while (accuracy is null && polled.Elapsed < TimeSpan.FromSeconds(30) && !run.HasExited)
        {
            accuracy = await prometheus.Query($"fedcollm_evaluation_accuracy{{job=\"{Job}\",round=\"1\",model=\"slm\",set=\"noun.animal\"}}");
            if (accuracy is null) await Task.Delay(500);
        }
        Assert.True(accuracy is >= 0 and <= 1, $"Prometheus has no round-1 accuracy (got {accuracy}):\n{prometheus.Output}\n{run.Output}");
        Assert.True(await prometheus.Query($"fedcollm_round_duration_seconds_count{{job=\"{Job}\"}}") >= 1, prometheus.Output);
        log.WriteLine($"round 1 committed after {deadline.Elapsed.TotalSeconds:F0} s; Prometheus had its accuracy ({accuracy}) {polled.Elapsed.TotalSeconds:F1} s later");
    }

    /// <summary><c>promtool check metrics</c> reads the exposition on standard input and prints each lint problem.</summary>
    static async Task<(int Code, string Output)> Promtool(string metrics)
    {
        var result = await ShortCommand.RunAsync([PrometheusTools.Find("promtool")!, "check", "metrics"], input: metrics);
        return (result.Code, result.Output);
    }
}

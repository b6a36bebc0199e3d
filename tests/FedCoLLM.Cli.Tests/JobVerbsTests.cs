using System.Diagnostics;
using System.Text.Json.Nodes;
using FedCoLLM.Cli.Chaos;
using Xunit.Abstractions;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// The job verbs against a running `fedcollm run` (a background child process): each verb is its own `fedcollm`
/// process that joins the run's local cluster through DIR/cluster.address as a role-less node. One run hosts a long
/// job (cancelled at the end) while a second job is submitted, refused, listed, watched to completion.
/// </summary>
[Collection(ChildProcesses.Name)]
public class JobVerbsTests(ITestOutputHelper log)
{
    static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Submit_jobs_status_watch_and_cancel_drive_a_running_local_cluster_and_status_reads_the_journal_after_it_ends()
    {
        var clock = Stopwatch.StartNew();
        using var files = new TempDir();
        // Far more rounds than the test lasts: it is still running whenever a verb looks, until it is cancelled.
        var longJob = TestJobs.Write(files.Path, "long", [.. TestJobs.Small, "job.id = long", "job.rounds = 100", "job.seed = 3"]);
        var second = TestJobs.Write(files.Path, "second", [.. TestJobs.Small, "job.id = second", "job.seed = 9"]);
        var secondChanged = TestJobs.Write(files.Path, "second-changed", [.. TestJobs.Small, "job.id = second", "job.seed = 9", "job.rounds = 2"]);
        using var dir = new TempDir();

        using var run = NodeProcess.Start("run", Fedcollm.StartInfo(["run", longJob, "--out", dir.Path]));
        try
        {
            await Until(() => run.Saw("Started job long"), run, "the run to start job long");
            Assert.True(File.Exists(Path.Combine(dir.Path, "cluster.address")), run.Output);
            log.WriteLine($"run started job long: {clock.Elapsed.TotalSeconds:F0} s");

            // submit: accepted; the same file again changes nothing; another spec under that id is refused by key.
            var (code, output) = await Verb("submit", second, "--out", dir.Path);
            Assert.True(code == 0, output);
            Assert.Contains("Submitted job second", output);
            (code, output) = await Verb("submit", second, "--out", dir.Path);
            Assert.True(code == 0, output);
            Assert.Contains("nothing changed", output);
            (code, output) = await Verb("submit", secondChanged, "--out", dir.Path);
            Assert.True(code == 2, output);
            Assert.Contains("Refused", output);
            Assert.Contains("the first key that differs is rounds (1 vs 2)", output);
            log.WriteLine($"three submits: {clock.Elapsed.TotalSeconds:F0} s");

            // jobs: both, in submission order, with their state; --json for scripts.
            (code, output) = await Verb("jobs", "--out", dir.Path);
            Assert.True(code == 0, output);
            Assert.Matches(@"\| long +\| fedcollm +\| \w+ +\| \d+/100 ", output);
            Assert.Matches(@"\| second +\| fedcollm +\| \w+ +\| \d+/1 ", output);
            var listed = (await JsonVerb("jobs", "--json", "--out", dir.Path)).AsArray();
            Assert.Equal(["long", "second"], listed.Select(j => j!["job"]!.GetValue<string>()));
            Assert.All(listed, j => Assert.False(string.IsNullOrEmpty(j!["state"]!.GetValue<string>())));
            Assert.Equal("long", listed[0]!["job"]!.GetValue<string>());
            Assert.Equal(100, listed[0]!["rounds"]!.GetValue<int>());

            // status of one job from the running cluster.
            var status = await JsonVerb("status", "long", "--json", "--out", dir.Path);
            Assert.Equal("long", status["job"]!.GetValue<string>());
            Assert.DoesNotContain(status["state"]!.GetValue<string>(), new[] { "Completed", "Failed", "Cancelled" });
            log.WriteLine($"jobs, jobs --json, status: {clock.Elapsed.TotalSeconds:F0} s");

            // watch: with stdout redirected (and a terminal's TERM, colours allowed) it prints plain phase lines, no
            // live display and no escape codes, and exits 0 once the job completes.
            var watch = Fedcollm.StartInfo(["watch", "second", "--out", dir.Path]);
            watch.Environment.Remove("NO_COLOR");
            watch.Environment["TERM"] = "xterm-256color";
            (code, output) = await Fedcollm.Run(watch, Limit);
            Assert.True(code == 0, output);
            Assert.Matches(@"(?m)^\[\d\d:\d\d:\d\d\] round \d/1 attempt 1 · \w+", output);
            Assert.Contains("Job second: Completed after 1 committed round(s).", output);
            Assert.DoesNotContain("\u001b[", output);
            Assert.False(run.HasExited, run.Output);
            log.WriteLine($"watch second to completion: {clock.Elapsed.TotalSeconds:F0} s");

            // cancel: journaled; the run, which follows job long, sees it end as Cancelled.
            (code, output) = await Verb("cancel", "long", "--out", dir.Path);
            Assert.True(code == 0, output);
            Assert.Contains("Cancelled job long.", output);
            var exit = await run.WaitForExit(Limit);
            Assert.True(exit == 1, $"exit {exit}\n{run.Output}");
            Assert.True(run.Saw("Job cancelled: cancelled by fedcollm cancel"), run.Output);
            Assert.False(File.Exists(Path.Combine(dir.Path, "cluster.address")), run.Output);
            log.WriteLine($"cancel long, run exits: {clock.Elapsed.TotalSeconds:F0} s");
        }
        finally
        {
            run.Kill();
        }

        // status with no running cluster reads the journal.
        var jobs = (await JsonVerb("status", "--json", "--out", dir.Path)).AsArray().ToDictionary(j => j!["job"]!.GetValue<string>(), j => j!);
        Assert.Equal("Cancelled", jobs["long"]["state"]!.GetValue<string>());
        Assert.Equal("Completed", jobs["second"]["state"]!.GetValue<string>());
        Assert.Equal(64, jobs["second"]["final"]!["slm_adapter_sha256"]!.GetValue<string>().Length);

        // The cancelled job never resumes: the same run again reports that it ended and trains nothing.
        var blobs = Blobs(dir.Path);
        var (rerunCode, rerun) = await Fedcollm.Run(["run", longJob, "--out", dir.Path]);
        Assert.True(rerunCode == 1, rerun);
        Assert.Contains("had already ended (Cancelled)", rerun);
        Assert.DoesNotContain("Resuming", rerun);
        Assert.Equal(blobs, Blobs(dir.Path));
        Assert.Equal("Cancelled", (await JsonVerb("status", "long", "--json", "--out", dir.Path))["state"]!.GetValue<string>());
        log.WriteLine($"status from the journal, rerun: {clock.Elapsed.TotalSeconds:F0} s");
    }

    static async Task<(int Code, string Output)> Verb(params string[] args) => await Fedcollm.Run(Fedcollm.StartInfo(args), Limit);

    /// <summary>A verb's --json answer: stdout must be exactly one JSON document (Akka's log goes to stderr).</summary>
    static async Task<JsonNode> JsonVerb(params string[] args)
    {
        var (code, stdout, stderr) = await Fedcollm.RunApart(args);
        Assert.True(code == 0, stdout + stderr);
        try { return JsonNode.Parse(stdout)!; }
        catch (System.Text.Json.JsonException e) { throw new Xunit.Sdk.XunitException($"stdout of {string.Join(" ", args)} is not one JSON document ({e.Message}):\n{stdout}"); }
    }

    static string[] Blobs(string runDir) =>
        Directory.EnumerateFiles(Path.Combine(runDir, "blobs"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

    static async Task Until(Func<bool> condition, NodeProcess process, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.False(process.HasExited, $"waiting for {what}, the process exited:\n{process.Output}");
            Assert.True(deadline.Elapsed < Limit, $"waiting for {what}:\n{process.Output}");
            await Task.Delay(200);
        }
    }
}

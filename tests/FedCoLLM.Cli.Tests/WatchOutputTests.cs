using System.Diagnostics;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// How a followed job is shown depends on stdout alone: in a terminal a live table redrawn in place (cursor and colour
/// escape codes), redirected (a log, a pipe) one plain line per phase change and no escape code at all, even when TERM
/// says the terminal could take them. The terminal is a pseudo-terminal from util-linux's `script`.
/// </summary>
[Collection(ChildProcesses.Name)]
public class WatchOutputTests
{
    [Fact]
    public async Task A_run_in_a_terminal_shows_the_live_table_and_redirected_prints_plain_lines_without_escape_codes()
    {
        using var files = new TempDir();
        var job = TestJobs.Write(files.Path, "shown", [.. TestJobs.Small, "job.id = shown"]);
        using var dir = new TempDir();

        // In a pseudo-terminal: stdout is a terminal, so the live table.
        var fedcollm = Fedcollm.StartInfo(["run", job, "--out", dir.Path]);
        var command = string.Join(" ", new[] { fedcollm.FileName }.Concat(fedcollm.ArgumentList).Select(Quote));
        var terminal = new ProcessStartInfo("script", ["--quiet", "--flush", "--return", "--command", command, "/dev/null"])
        {
            WorkingDirectory = fedcollm.WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        terminal.Environment["TERM"] = "xterm-256color";
        terminal.Environment.Remove("NO_COLOR");
        var (code, output) = await Fedcollm.Run(terminal, TimeSpan.FromMinutes(6));
        Assert.True(code == 0, output);
        Assert.Contains("\u001b[", output);
        Assert.Contains("╭", output); // the live table's rounded border
        Assert.DoesNotContain("attempt 1 · ", output); // no plain phase lines
        Assert.True(File.Exists(Path.Combine(dir.Path, "shown", "report.json")), output);

        // Redirected, with the same TERM and colours allowed: following the ended job prints its plain line.
        var redirected = Fedcollm.StartInfo(["run", job, "--out", dir.Path]);
        redirected.Environment["TERM"] = "xterm-256color";
        redirected.Environment.Remove("NO_COLOR");
        (code, output) = await Fedcollm.Run(redirected, TimeSpan.FromMinutes(2));
        Assert.True(code == 0, output);
        Assert.Matches(@"(?m)^\[\d\d:\d\d:\d\d\] round 1/1 attempt 1 · Completed\r?$", output);
        Assert.DoesNotContain("\u001b[", output);
        Assert.DoesNotContain("╭", output);
    }

    static string Quote(string arg) => "'" + arg.Replace("'", "'\\''") + "'";
}

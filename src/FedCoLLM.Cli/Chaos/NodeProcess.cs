using System.Collections.Concurrent;
using System.Diagnostics;

namespace FedCoLLM.Cli.Chaos;

/// <summary>One line a child process printed, with when the parent read it.</summary>
public sealed record OutputLine(DateTime At, string Text);

/// <summary>
/// A `fedcollm` child process (a cluster node, or a whole run) whose output is collected line by line with the time
/// each line arrived. Used by <c>fedcollm chaos</c> and by the multi-process tests.
/// </summary>
public sealed class NodeProcess : IDisposable
{
    readonly Process process;
    readonly ConcurrentQueue<OutputLine> lines = new();

    NodeProcess(string name, Process process)
    {
        Name = name;
        this.process = process;
    }

    public string Name { get; }
    public bool HasExited => process.HasExited;
    public int ExitCode => process.ExitCode;
    public IReadOnlyCollection<OutputLine> Lines => lines;
    public string Output => $"--- {Name} ---\n" + string.Join("\n", lines.Select(l => l.Text));

    /// <summary>Runs this same program (<c>fedcollm</c>, or <c>dotnet fedcollm.dll</c>) with <paramref name="args"/>.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, string? workingDirectory = null)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo(host)
        {
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Under `dotnet fedcollm.dll` (or a test host) the program is the assembly next to this one.
        if (Path.GetFileNameWithoutExtension(host) != "fedcollm")
        {
            info.FileName = "dotnet";
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "fedcollm.dll"));
        }
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["NO_COLOR"] = "1";
        return info;
    }

    public static NodeProcess Start(string name, ProcessStartInfo info)
    {
        var process = new Process { StartInfo = info };
        var node = new NodeProcess(name, process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) node.lines.Enqueue(new OutputLine(DateTime.UtcNow, e.Data)); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) node.lines.Enqueue(new OutputLine(DateTime.UtcNow, e.Data)); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    public bool Saw(string text) => lines.Any(l => l.Text.Contains(text, StringComparison.Ordinal));

    /// <summary>The first line containing <paramref name="text"/> that arrived after <paramref name="since"/>.</summary>
    public OutputLine? First(string text, DateTime since) =>
        lines.FirstOrDefault(l => l.At > since && l.Text.Contains(text, StringComparison.Ordinal));

    /// <summary>The exit code, or null when <paramref name="within"/> passed first; throws when <paramref name="cancellation"/> fires.</summary>
    public async Task<int?> WaitForExit(TimeSpan within, CancellationToken cancellation = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(within);
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested) { return null; }
        return process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown hooks, no cluster leave.</summary>
    public void Kill()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        Kill();
        process.Dispose();
    }
}

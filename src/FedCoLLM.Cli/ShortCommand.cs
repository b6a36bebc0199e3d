using System.Diagnostics;

namespace FedCoLLM.Cli;

/// <summary>How a short command ended. <see cref="Code"/> is -1 when it ran past its time limit and was killed.</summary>
public sealed record CommandResult(int Code, string Stdout, string Stderr, bool TimedOut)
{
    /// <summary>Everything it printed, standard output then standard error.</summary>
    public string Output => Stdout + Stderr;
}

/// <summary>
/// The one runner of short child processes run to their end (ip, initdb, chown, promtool, chromium, bash scripts):
/// arguments passed as a list (no shell quoting), both streams captured, an optional standard input, a time limit
/// after which the whole process tree is killed. Long-lived nodes use Chaos/NodeProcess.cs instead.
/// </summary>
public static class ShortCommand
{
    public static readonly TimeSpan DefaultLimit = TimeSpan.FromMinutes(1);

    public static async Task<CommandResult> RunAsync(IReadOnlyList<string> command, TimeSpan? limit = null, string? input = null, CancellationToken cancellation = default)
    {
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        foreach (var a in command.Skip(1)) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {command[0]}");
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(limit ?? DefaultLimit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellation.ThrowIfCancellationRequested();
            return new CommandResult(-1, await stdout, await stderr + $"\ntimed out after {(limit ?? DefaultLimit).TotalSeconds:F0} s: {string.Join(' ', command)}", TimedOut: true);
        }
        return new CommandResult(process.ExitCode, await stdout, await stderr, TimedOut: false);
    }

    public static CommandResult Run(IReadOnlyList<string> command, TimeSpan? limit = null) => RunAsync(command, limit).GetAwaiter().GetResult();

    /// <summary>Runs the command and throws, naming <paramref name="what"/>, the command and its output, unless it exits 0.</summary>
    public static async Task<string> CheckAsync(string what, IReadOnlyList<string> command, TimeSpan? limit = null, CancellationToken cancellation = default)
    {
        var result = await RunAsync(command, limit, cancellation: cancellation);
        if (result.Code != 0) throw new InvalidOperationException($"{what}: `{string.Join(' ', command)}` failed ({result.Code}): {result.Output.Trim()}");
        return result.Stdout;
    }

    public static string Check(string what, IReadOnlyList<string> command, TimeSpan? limit = null) => CheckAsync(what, command, limit).GetAwaiter().GetResult();
}

using System.Runtime.InteropServices;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// Turns Ctrl-C (and, for long-lived nodes, SIGTERM as an orchestrator sends it) into a cancellation token instead of
/// killing the process, so the federation commands stop following, shut their ActorSystem down and say how to resume.
/// </summary>
public sealed class ConsoleStop : IDisposable
{
    readonly CancellationTokenSource source;
    readonly ConsoleCancelEventHandler onCancel;
    readonly PosixSignalRegistration? onTerm;

    public ConsoleStop(CancellationToken outer, bool handleSigterm = false)
    {
        source = CancellationTokenSource.CreateLinkedTokenSource(outer);
        onCancel = (_, e) => { e.Cancel = true; source.Cancel(); };
        Console.CancelKeyPress += onCancel;
        if (handleSigterm) onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; source.Cancel(); });
    }

    public CancellationToken Token => source.Token;

    public void Dispose()
    {
        Console.CancelKeyPress -= onCancel;
        onTerm?.Dispose();
        source.Dispose();
    }
}

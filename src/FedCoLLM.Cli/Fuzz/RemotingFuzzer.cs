using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FedCoLLM.Cli.Fuzz;

/// <summary>Sends <see cref="FrameMutator"/>'s cases to a remoting port, one connection each, over real sockets, until
/// the case count or the time runs out. Counts what the port did: accepted and read, closed on us, or refused.</summary>
public static class RemotingFuzzer
{
    public static async Task<FuzzTally> RunAsync(int port, FrameMutator mutator, int maxCases, TimeSpan duration, CancellationToken cancellation)
    {
        var tally = new FuzzTally();
        var clock = Stopwatch.StartNew();
        while (tally.Cases < maxCases && clock.Elapsed < duration && !cancellation.IsCancellationRequested)
        {
            var (kind, bytes) = mutator.Next();
            tally.Count(kind);
            using var client = await FuzzSocket.ConnectAsync(port, cancellation);
            if (client is null)
            {
                tally.Refused++;
                continue;
            }
            var stream = client.GetStream();
            try
            {
                await stream.WriteAsync(bytes, cancellation);
                // Give the node a moment to react (answer, or close the connection on us) before the next case.
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                wait.CancelAfter(TimeSpan.FromMilliseconds(25));
                var buffer = new byte[4096];
                if (await stream.ReadAsync(buffer, wait.Token) == 0) tally.ClosedByPeer++;
                else tally.Answered++;
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested) { tally.LeftOpen++; }
            catch (IOException) { tally.ClosedByPeer++; }
        }
        tally.Elapsed = clock.Elapsed;
        return tally;
    }
}

/// <summary>What a fuzz run sent and how the target's port reacted.</summary>
public sealed class FuzzTally
{
    public int Cases { get; private set; }
    public Dictionary<string, int> ByKind { get; } = new(StringComparer.Ordinal);
    public int Refused { get; set; }
    public int ClosedByPeer { get; set; }
    public int Answered { get; set; }
    public int LeftOpen { get; set; }
    /// <summary>HTTP only: responses by status code.</summary>
    public SortedDictionary<int, int> Statuses { get; } = new();
    public TimeSpan Elapsed { get; set; }

    public void Count(string kind)
    {
        Cases++;
        ByKind[kind] = ByKind.GetValueOrDefault(kind) + 1;
    }

    /// <summary>500s: a handler that threw on the input. (505 is Kestrel refusing an unknown HTTP version, 503 the status
    /// page saying the cluster is not ready: answers, not failures.)</summary>
    public int ServerErrors => Statuses.GetValueOrDefault(500);
}

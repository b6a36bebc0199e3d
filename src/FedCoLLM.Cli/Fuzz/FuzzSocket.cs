using System.Net;
using System.Net.Sockets;

namespace FedCoLLM.Cli.Fuzz;

/// <summary>One fuzz case's connection to the node on loopback, shared by both fuzzers.</summary>
static class FuzzSocket
{
    /// <summary>A connection reset on close (linger 0, so thousands of cases leave no TIME_WAIT behind); null when the
    /// port refused it or did not accept within 2 s.</summary>
    public static async Task<TcpClient?> ConnectAsync(int port, CancellationToken cancellation)
    {
        var client = new TcpClient { NoDelay = true, LingerState = new LingerOption(true, 0) };
        try
        {
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            connect.CancelAfter(TimeSpan.FromSeconds(2));
            await client.ConnectAsync(IPAddress.Loopback, port, connect.Token);
            return client;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            client.Dispose();
            return null;
        }
    }
}

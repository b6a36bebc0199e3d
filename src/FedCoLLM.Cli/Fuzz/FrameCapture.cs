using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;

namespace FedCoLLM.Cli.Fuzz;

/// <summary>
/// Real remoting frames to mutate: a short-lived ActorSystem with the node's own configuration sends a message to the
/// target through a loopback relay, which records the bytes it forwards (the association handshake and the first
/// payloads). The byte stream is then split at its 4-byte length prefixes, whose byte order is read off the stream.
/// </summary>
public static class FrameCapture
{
    public sealed record Corpus(IReadOnlyList<byte[]> Frames, bool BigEndian, int Bytes);

    public static async Task<Corpus> CaptureAsync(Config visitorConfig, int targetPort, TimeSpan window)
    {
        var relay = new TcpListener(IPAddress.Loopback, 0);
        relay.Start();
        int relayPort = ((IPEndPoint)relay.LocalEndpoint).Port;
        var captured = new MemoryStream();
        using var stop = new CancellationTokenSource(window);
        var pump = Relay(relay, targetPort, captured, stop.Token);
        var system = Actors.Hosting.FederationHost.CreateSystem(ConfigurationFactory.ParseString("""
            akka.remote.dot-netty.tcp.port = 0
            akka.cluster.seed-nodes = []
            fedcollm.self-join = off
            akka.loglevel = ERROR
            akka.stdout-loglevel = ERROR
            """).WithFallback(visitorConfig));
        try
        {
            // An Identify to a path on the target, addressed through the relay: the association and one payload frame.
            var selection = system.ActorSelection($"akka.tcp://{Actors.Hosting.FederationHost.SystemName}@127.0.0.1:{relayPort}/user/fuzz-probe");
            for (int i = 0; i < 3 && !stop.IsCancellationRequested; i++)
            {
                selection.Tell(new Identify(i));
                await Task.Delay(300);
            }
            try { await Task.Delay(Timeout.Infinite, stop.Token); } catch (OperationCanceledException) { }
        }
        finally
        {
            await system.Terminate();
            relay.Stop();
            try { await pump; } catch (Exception) { /* the relay ends by its sockets being closed */ }
        }
        var bytes = captured.ToArray();
        return Split(bytes);
    }

    static async Task Relay(TcpListener relay, int targetPort, MemoryStream captured, CancellationToken stop)
    {
        using var inbound = await relay.AcceptTcpClientAsync(stop);
        using var outbound = new TcpClient();
        await outbound.ConnectAsync(IPAddress.Loopback, targetPort, stop);
        var a = inbound.GetStream();
        var b = outbound.GetStream();
        var toTarget = Copy(a, b, captured, stop);
        var back = Copy(b, a, null, stop);
        await Task.WhenAny(toTarget, back);
    }

    static async Task Copy(NetworkStream from, NetworkStream to, MemoryStream? record, CancellationToken stop)
    {
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await from.ReadAsync(buffer, stop)) > 0)
        {
            if (record is not null) lock (record) record.Write(buffer, 0, n);
            await to.WriteAsync(buffer.AsMemory(0, n), stop);
        }
    }

    /// <summary>Splits a recorded stream at its length prefixes; the byte order is the one whose first prefix fits.</summary>
    public static Corpus Split(byte[] stream)
    {
        if (stream.Length < 4) return new Corpus([], true, stream.Length);
        int be = BinaryPrimitives.ReadInt32BigEndian(stream), le = BinaryPrimitives.ReadInt32LittleEndian(stream);
        bool bigEndian = be >= 0 && be <= stream.Length - 4 || !(le >= 0 && le <= stream.Length - 4);
        var frames = new List<byte[]>();
        int at = 0;
        while (at + 4 <= stream.Length)
        {
            int length = bigEndian ? BinaryPrimitives.ReadInt32BigEndian(stream.AsSpan(at)) : BinaryPrimitives.ReadInt32LittleEndian(stream.AsSpan(at));
            if (length < 0 || at + 4 + length > stream.Length) break;
            frames.Add(stream[at..(at + 4 + length)]);
            at += 4 + length;
        }
        return new Corpus(frames, bigEndian, stream.Length);
    }
}

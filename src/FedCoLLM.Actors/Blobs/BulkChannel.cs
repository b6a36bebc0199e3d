using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Event;
using FedCoLLM.Actors.Security;
using FedCoLLM.Actors.Telemetry;

namespace FedCoLLM.Actors.Blobs;

/// <summary>
/// The bulk channel: a blob larger than one chunk moves over a TCP connection of its own (mutual TLS under the cluster's
/// CA with the node's own certificate whenever remoting uses TLS), not as a stream of remoting messages. The holder's
/// <see cref="BlobServerActor"/> answers a <see cref="FetchBlob"/> that asks for it with a <see cref="BlobBulkOffer"/>: this
/// node's address, the channel's port and a single-use ticket (32 random bytes, valid <see cref="TicketLifetime"/>). The
/// receiver connects, presents the ticket and reads the blob's bytes straight into its store, which verifies size and
/// SHA-256 as for any transfer.
/// </summary>
/// <remarks>
/// Why: remoting copies each chunk through the stream-ref envelope, Akka's protobuf payload, DotNetty's frame and the TLS
/// record layer on both sides and allocates about 15 bytes per byte moved; a plain socket copy of the same bytes was twice
/// as fast (docs/benchmarks.md, "fedcollm bench transfer"). The ticket travels inside remoting, which is already
/// authenticated and encrypted, so only a member of the cluster can use it; under TLS the connection itself is refused to
/// anybody without a certificate of our CA naming the host it connects from (<see cref="PeerValidator"/>).
/// Nothing here is required: a node with the channel off, a listener that cannot start, or a connection that fails sends
/// the fetcher back to the stream ref (<see cref="BlobFetcher"/> falls back after a failed bulk attempt).
/// Settings (hocon/protocol.conf): <c>fedcollm.blobs.bulk.enabled</c>, <c>fedcollm.blobs.bulk.port</c> (0 = any free port;
/// set one where a firewall or network policy must name it).
/// Wire format, receiver first: "FCB1", the 32-byte ticket; holder: one status byte (<see cref="Status"/>), then for
/// <see cref="Status.Ok"/> the length as 8 bytes big-endian and the bytes, and the connection closes.
/// </remarks>
public sealed class BulkChannel : IExtension, IDisposable
{
    public const string EnabledKey = "fedcollm.blobs.bulk.enabled";
    public const string PortKey = "fedcollm.blobs.bulk.port";

    /// <summary>How long an offered ticket may wait for its connection: the fetch's own answer timeout.</summary>
    public static readonly TimeSpan TicketLifetime = TimeSpan.FromSeconds(60);

    static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(15);
    static readonly byte[] Magic = "FCB1"u8.ToArray();
    const int TicketBytes = 32;
    const int CopyBuffer = 256 * 1024;

    internal enum Status : byte { Ok = 0, UnknownTicket = 1, Unreadable = 2 }

    sealed record Ticket(IBlobStore Store, BlobRef Blob, DateTime Expires, TimeSpan Pace, int PaceChunk);

    readonly ExtendedActorSystem system;
    readonly ILoggingAdapter log;
    readonly (X509Certificate2 Certificate, X509Certificate2 Ca)? tls;
    readonly int port;
    readonly ConcurrentDictionary<string, Ticket> tickets = new();
    readonly CancellationTokenSource stopping = new();
    readonly Lock gate = new();
    TcpListener? listener;
    bool unavailable;

    /// <summary>Whether this node asks holders for the bulk channel and offers it: on when configured and the node is remote
    /// (a node without remoting fetches only from itself).</summary>
    public bool Enabled { get; }

    /// <summary>The port the channel listens on once it has offered a blob; 0 before.</summary>
    public int Port => listener is { } l ? ((IPEndPoint)l.LocalEndpoint).Port : 0;

    public static BulkChannel For(ActorSystem system) => system.WithExtension<BulkChannel, BulkChannelProvider>();

    internal BulkChannel(ExtendedActorSystem system)
    {
        this.system = system;
        log = Logging.GetLogger(system, typeof(BulkChannel));
        var config = system.Settings.Config;
        Enabled = config.GetBoolean(EnabledKey, true) && RemotingTls.IsRemote(config);
        port = config.GetInt(PortKey, 0);
        if (port is < 0 or > 65535)
            throw new ArgumentException($"{PortKey} = {port}: expected 0 (any free port) or a TCP port up to 65535.");
        if (Enabled)
            tls = RemotingTls.Credentials(config);
        system.RegisterOnTermination(Dispose);
    }

    /// <summary>A ticket for <paramref name="blob"/> in <paramref name="store"/>, or null when this node cannot offer the
    /// channel (off, or its listener could not start: then the stream ref serves). <paramref name="pace"/> &gt; 0 is fault
    /// injection: the bytes go out in pieces of <paramref name="paceChunk"/> with that pause between them.</summary>
    internal BlobBulkOffer? Offer(IBlobStore store, BlobRef blob, TimeSpan pace, int paceChunk)
    {
        if (!Enabled || EnsureListening() is not { } listening) return null;
        var now = DateTime.UtcNow;
        foreach (var (key, stale) in tickets)
            if (stale.Expires < now) tickets.TryRemove(key, out _);
        var ticket = RandomNumberGenerator.GetBytes(TicketBytes);
        tickets[Convert.ToHexString(ticket)] = new Ticket(store, blob, now + TicketLifetime, pace, paceChunk);
        return new BlobBulkOffer(blob, system.Provider.DefaultAddress.Host!, listening, ticket);
    }

    int? EnsureListening()
    {
        lock (gate)
        {
            if (listener is not null) return Port;
            if (unavailable || stopping.IsCancellationRequested) return null;
            var bind = BindAddress();
            try
            {
                var l = new TcpListener(bind, port);
                l.Start();
                listener = l;
            }
            catch (SocketException e)
            {
                unavailable = true;
                log.Error("The blob bulk channel cannot listen on {0}:{1} ({2}): large blobs will move as remoting streams, about half as fast. " +
                    "Free the port or set {3} (0 = any free port).", bind, port, e.Message, PortKey);
                return null;
            }
            _ = AcceptAsync(listener);
            log.Info("Blob bulk channel listening on {0} ({1})", listener.LocalEndpoint, tls is null ? "plaintext" : "mutual TLS");
            return Port;
        }
    }

    /// <summary>Where remoting binds (akka.remote.dot-netty.tcp.hostname): the channel is reachable wherever remoting is.</summary>
    IPAddress BindAddress()
    {
        var host = system.Settings.Config.GetString("akka.remote.dot-netty.tcp.hostname", "");
        if (string.IsNullOrWhiteSpace(host)) return IPAddress.Any;
        if (IPAddress.TryParse(host, out var ip)) return ip;
        var addresses = Dns.GetHostAddresses(host);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.First();
    }

    async Task AcceptAsync(TcpListener l)
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await l.AcceptTcpClientAsync(stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var peer = client.Client.RemoteEndPoint?.ToString() ?? "?";
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
        idle.CancelAfter(HandshakeTimeout);
        try
        {
            client.NoDelay = true;
            Stream stream = client.GetStream();
            if (tls is var (certificate, ca))
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false, (_, presented, chain, errors) => Accepted(ca, presented, chain, errors, peer));
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = certificate,
                    ClientCertificateRequired = true,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                }, idle.Token).ConfigureAwait(false);
                stream = ssl;
            }
            await using (stream.ConfigureAwait(false))
            {
                var request = new byte[Magic.Length + TicketBytes];
                await stream.ReadExactlyAsync(request, idle.Token).ConfigureAwait(false);
                if (!request.AsSpan(0, Magic.Length).SequenceEqual(Magic))
                {
                    log.Warning("Blob bulk channel: {0} sent no bulk request; closed.", peer);
                    return;
                }
                var key = Convert.ToHexString(request, Magic.Length, TicketBytes);
                if (!tickets.TryRemove(key, out var ticket) || ticket.Expires < DateTime.UtcNow)
                {
                    log.Warning("Blob bulk channel: {0} presented an unknown, used or expired ticket; refused.", peer);
                    await stream.WriteAsync(new[] { (byte)Status.UnknownTicket }, idle.Token).ConfigureAwait(false);
                    return;
                }
                await SendAsync(stream, ticket, idle).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or AuthenticationException or OperationCanceledException or ObjectDisposedException)
        {
            if (!stopping.IsCancellationRequested)
                log.Warning("Blob bulk channel: transfer to {0} failed: {1}", peer, e.Message);
        }
    }

    async Task SendAsync(Stream stream, Ticket ticket, CancellationTokenSource idle)
    {
        Stream file;
        try
        {
            file = ticket.Store.OpenRead(ticket.Blob);
        }
        catch (Exception e) when (e is IOException or BlobIntegrityException)
        {
            log.Error(e, "Cannot serve {0}: {1}", ticket.Blob, e.Message);
            await stream.WriteAsync(new[] { (byte)Status.Unreadable }, idle.Token).ConfigureAwait(false);
            return;
        }
        await using (file.ConfigureAwait(false))
        {
            var header = new byte[9];
            header[0] = (byte)Status.Ok;
            BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(1), ticket.Blob.Size);
            await stream.WriteAsync(header, idle.Token).ConfigureAwait(false);
            var buffer = new byte[ticket.Pace > TimeSpan.Zero ? ticket.PaceChunk : CopyBuffer];
            int n;
            while ((n = await file.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                if (ticket.Pace > TimeSpan.Zero)
                    await Task.Delay(ticket.Pace, stopping.Token).ConfigureAwait(false);
                idle.CancelAfter(ProtocolIdle);
                await stream.WriteAsync(buffer.AsMemory(0, n), idle.Token).ConfigureAwait(false);
                FederationMetrics.BlobBytes(TransferDirection.Sent, n);
            }
            await stream.FlushAsync(idle.Token).ConfigureAwait(false);
            if (stream is SslStream ssl)
                await ssl.ShutdownAsync().ConfigureAwait(false);
        }
    }

    /// <summary>How long a transfer may go without progress either way (a dead receiver, a dead holder).</summary>
    static readonly TimeSpan ProtocolIdle = TimeSpan.FromSeconds(30);

    bool Accepted(X509Certificate2 ca, X509Certificate? presented, X509Chain? chain, SslPolicyErrors errors, string peer)
    {
        var reason = PeerValidator.Check(ca, presented as X509Certificate2, chain, peer, errors, PeerValidator.Resolve);
        if (reason is null) return true;
        log.Warning("{0} {1} on the blob bulk channel (certificate {2}): {3}", PeerValidator.Refused, peer, presented?.Subject ?? "none", reason);
        return false;
    }

    /// <summary>Connects to the holder named in <paramref name="offer"/>, presents its ticket and returns the blob's bytes as
    /// a stream of exactly its size; every read must make progress within <paramref name="idle"/>.</summary>
    public async Task<Stream> OpenAsync(BlobBulkOffer offer, TimeSpan idle, TransferTally? tally, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(idle);
            await client.ConnectAsync(offer.Host, offer.Port, timeout.Token).ConfigureAwait(false);
            Stream stream = client.GetStream();
            if (tls is var (certificate, ca))
            {
                var target = $"tls://{offer.Host}:{offer.Port}";
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false, (_, presented, chain, errors) => Accepted(ca, presented, chain, errors, target));
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = offer.Host,
                    ClientCertificates = [certificate],
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                }, timeout.Token).ConfigureAwait(false);
                stream = ssl;
            }
            await stream.WriteAsync(Magic.Concat(offer.Ticket).ToArray(), timeout.Token).ConfigureAwait(false);
            var status = new byte[1];
            await stream.ReadExactlyAsync(status, timeout.Token).ConfigureAwait(false);
            switch ((Status)status[0])
            {
                case Status.Ok:
                    break;
                case Status.UnknownTicket:
                    throw new IOException($"{offer.Host}:{offer.Port} refused the bulk ticket for {offer.Blob} (used, expired, or the holder restarted).");
                case Status.Unreadable:
                    throw new IOException($"{offer.Host}:{offer.Port} cannot read {offer.Blob} from its store.");
                default:
                    throw new IOException($"{offer.Host}:{offer.Port} answered the bulk request with status {status[0]}: not a FedCoLLM blob bulk channel.");
            }
            var length = new byte[8];
            await stream.ReadExactlyAsync(length, timeout.Token).ConfigureAwait(false);
            var size = BinaryPrimitives.ReadInt64BigEndian(length);
            if (size != offer.Blob.Size)
                throw new IOException($"{offer.Host}:{offer.Port} offered {size:N0} bytes for {offer.Blob}, which has {offer.Blob.Size:N0}.");
            tally?.Began();
            return new BulkStream(client, stream, size, idle, tally);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (stopping.IsCancellationRequested) return;
            stopping.Cancel();
            listener?.Stop();
        }
    }
}

internal sealed class BulkChannelProvider : ExtensionIdProvider<BulkChannel>
{
    public override BulkChannel CreateExtension(ExtendedActorSystem system) => new(system);
}

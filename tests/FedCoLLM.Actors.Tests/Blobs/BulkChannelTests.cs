using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Event;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Security;

namespace FedCoLLM.Actors.Tests.Blobs;

/// <summary>
/// The blob bulk channel between two nodes made as <c>fedcollm node</c> makes them (hocon/cluster.conf and
/// protocol.conf as shipped, mutual TLS under a CA made for the class, real sockets on 127.0.0.1): a large blob moves on
/// it and arrives verified; its ticket is single-use; a connection with a certificate from another CA is refused before
/// it can present a ticket; and a channel that cannot be reached sends the fetch back to the remoting stream.
/// </summary>
public sealed class BulkChannelTests : IClassFixture<BulkChannelTests.Certificates>, IAsyncLifetime
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public sealed class Certificates : IDisposable
    {
        readonly TempDirectory dir = new();
        public NodeCredentials Holder { get; }
        public NodeCredentials Receiver { get; }
        public NodeCredentials OtherCa { get; }

        public Certificates()
        {
            using var ours = RunCertificates.Create(Path.Combine(dir.Path, "ours"));
            using var other = RunCertificates.Create(Path.Combine(dir.Path, "other"));
            Holder = ours.Loopback("holder");
            Receiver = ours.Loopback("receiver");
            OtherCa = other.Loopback("receiver");
        }

        public void Dispose() => dir.Dispose();
    }

    readonly Certificates certs;
    readonly TempDirectory holderDir = new();
    readonly TempDirectory receiverDir = new();
    readonly DirectoryBlobStore holderStore;
    readonly DirectoryBlobStore receiverStore;
    readonly ActorSystem holder;
    readonly ActorSystem receiver;
    readonly ActorPath holderPath;
    readonly ConcurrentQueue<string> holderLog = new();

    public BulkChannelTests(Certificates certs)
    {
        this.certs = certs;
        holderStore = new DirectoryBlobStore(holderDir.Path);
        receiverStore = new DirectoryBlobStore(receiverDir.Path);
        holder = Node(certs.Holder);
        receiver = Node(certs.Receiver);
        var listener = holder.ActorOf(Props.Create(() => new LogListener(holderLog)));
        holder.EventStream.Subscribe(listener, typeof(Warning));
        holder.EventStream.Subscribe(listener, typeof(Error));
        holder.ActorOf(BlobServerActor.Props(holderStore), BlobServerActor.DefaultName);
        holderPath = new RootActorPath(Cluster.Get(holder).SelfAddress) / "user" / BlobServerActor.DefaultName;
    }

    static ActorSystem Node(NodeCredentials credentials) => FederationHost.CreateSystem(ConfigurationFactory.ParseString($"""
        akka.remote.dot-netty.tcp.port = 0
        akka.cluster.seed-nodes = []
        akka.cluster.roles = [server]
        akka.coordinated-shutdown.phases.cluster-leave.timeout = 2s
        {credentials.Hocon}
        """).WithFallback(FederationConfig.Load(["cluster.conf", "serialization.conf"])));

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        await Cluster.Get(holder).JoinAsync(Cluster.Get(holder).SelfAddress, ct).WaitAsync(Timeout, ct);
        await Cluster.Get(receiver).JoinAsync(Cluster.Get(holder).SelfAddress, ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(receiver.Terminate(), holder.Terminate()).WaitAsync(TimeSpan.FromSeconds(15));
        holderDir.Dispose();
        receiverDir.Dispose();
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<BlobBulkOffer> AskOffer(BlobRef blob) =>
        Assert.IsType<BlobBulkOffer>(await receiver.ActorSelection(holderPath).Ask<object>(new FetchBlob(blob, Bulk: true), Timeout, Ct));

    [Fact]
    public async Task A_large_blob_moves_on_the_bulk_channel_under_mutual_TLS_and_counts_the_same_chunks_as_a_stream()
    {
        var bytes = TempDirectory.RandomBytes(3 << 20, seed: 21);
        var blob = holderStore.Put(bytes);
        var tally = new TransferTally();

        await BlobFetcher.EnsureLocalAsync(receiver, receiverStore, blob, holderPath, Timeout, Ct, tally: tally);

        Assert.Equal(bytes, receiverStore.Read(blob));
        Assert.NotEqual(0, BulkChannel.For(holder).Port); // the holder offered the channel, so it listens
        Assert.Equal(new TransferCount(blob.Size, 48, 1), tally.Count()); // 3 MiB in 64 KiB pieces, one transfer
        Assert.Empty(holderLog);
    }

    [Fact]
    public async Task A_ticket_is_good_for_one_transfer()
    {
        var blob = holderStore.Put(TempDirectory.RandomBytes(200_000, seed: 22));
        var offer = await AskOffer(blob);
        var channel = BulkChannel.For(receiver);

        await using (var first = await channel.OpenAsync(offer, Timeout, null, Ct))
            await receiverStore.PutAsync(first, blob, Ct);
        var again = await Assert.ThrowsAsync<IOException>(() => channel.OpenAsync(offer, Timeout, null, Ct));

        Assert.True(receiverStore.Contains(blob));
        Assert.Contains("refused the bulk ticket", again.Message);
        await Until(() => holderLog.Any(l => l.Contains("unknown, used or expired ticket", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_connection_with_a_certificate_from_another_CA_is_refused_before_it_can_use_a_ticket()
    {
        var blob = holderStore.Put(TempDirectory.RandomBytes(200_000, seed: 23));
        var offer = await AskOffer(blob);

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(offer.Host, offer.Port, Ct);
            await using var ssl = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
            using var pem = X509Certificate2.CreateFromPemFile(certs.OtherCa.Certificate, certs.OtherCa.Key);
            using var stranger = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            var handshake = async () =>
            {
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = offer.Host, ClientCertificates = [stranger] }, Ct);
                await ssl.WriteAsync("FCB1"u8.ToArray().Concat(offer.Ticket).ToArray(), Ct);
                var answer = new byte[1];
                return await ssl.ReadAsync(answer, Ct) == 0 ? "closed" : $"answered {answer[0]}";
            };
            // TLS 1.3 may finish the client's side of the handshake before the server refuses its certificate; either
            // way the stranger gets no answer to its ticket.
            string outcome;
            try
            {
                outcome = await handshake();
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
            {
                outcome = "refused";
            }
            Assert.True(outcome is "refused" or "closed", $"the stranger's connection {outcome}");
        }
        await Until(() => holderLog.Any(l => l.Contains(PeerValidator.Refused, StringComparison.Ordinal) && l.Contains("not valid under our CA", StringComparison.Ordinal)));

        // The ticket was never presented: a member of the cluster can still use it.
        await using (var bytes = await BulkChannel.For(receiver).OpenAsync(offer, Timeout, null, Ct))
            await receiverStore.PutAsync(bytes, blob, Ct);
        Assert.True(receiverStore.Contains(blob));
    }

    [Fact]
    public async Task A_channel_that_cannot_be_reached_sends_the_fetch_back_to_the_remoting_stream()
    {
        var bytes = TempDirectory.RandomBytes(1 << 20, seed: 24);
        var blob = holderStore.Put(bytes);
        await AskOffer(holderStore.Put(TempDirectory.RandomBytes(100_000, seed: 25))); // the listener starts
        BulkChannel.For(holder).Dispose(); // and stops: offers now name a port where nobody listens
        var tally = new TransferTally();

        await BlobFetcher.EnsureLocalAsync(receiver, receiverStore, blob, holderPath, Timeout, Ct, tally: tally);

        Assert.Equal(bytes, receiverStore.Read(blob));
        Assert.Equal(new TransferCount(blob.Size, 16, 1), tally.Count()); // the failed connection moved nothing
    }

    static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Not within {Timeout.TotalSeconds:F0} s.");
            await Task.Delay(50, Ct);
        }
    }

    sealed class LogListener : ReceiveActor
    {
        public LogListener(ConcurrentQueue<string> log) => ReceiveAny(e => log.Enqueue(e is LogEvent l ? $"{l.Message} {(l as Error)?.Cause}" : $"{e}"));
    }
}

using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Security;

namespace FedCoLLM.Actors.Blobs;

/// <summary>What <see cref="TransferBenchmark"/> measures: blob sizes, interleaved repetitions, TLS on or off, the chunk
/// sizes the holder's <see cref="BlobServerActor"/>s serve with (one server per size, compared in the same run), and a scratch directory (certificates and two stores).</summary>
public sealed record TransferBenchOptions(IReadOnlyList<long> Sizes, int Reps, bool Tls, IReadOnlyList<int> ChunkSizes, string Directory)
{
    /// <summary>Overrides the stream-ref window (<see cref="TransferBenchmark.WindowKey"/>, chunks in flight) on both nodes; null keeps the configured one.</summary>
    public int? Window { get; init; }
}

/// <summary>One blob size: medians over the repetitions of the production fetch and of a raw socket copy of the same bytes
/// between the same two endpoints, and their ratio.</summary>
public sealed record TransferRow(string Transport, string Path, long Bytes, double Seconds, double MbPerS, double TcpSeconds, double TcpMbPerS,
    double ThroughputOverTcp, int ChunkSize, int Window, int Reps, IReadOnlyList<double> FetchSamples, IReadOnlyList<double> TcpSamples)
{
    /// <summary>Profile of the fetches (both nodes share this process): bytes allocated per byte moved, and the share of the
    /// fetch time the runtime spent paused in garbage collection (medians over the repetitions); the same for the raw copies.</summary>
    public double FetchAllocatedPerByte { get; init; }
    public double FetchGcPauseFraction { get; init; }
    public int FetchGen2Collections { get; init; }
    public double TcpAllocatedPerByte { get; init; }
    public double TcpGcPauseFraction { get; init; }
}

/// <summary>
/// <c>fedcollm bench transfer</c>: two ActorSystems in this process, each a cluster node made as <c>fedcollm node</c> makes
/// one (hocon/cluster.conf and serialization.conf through <see cref="FederationHost.CreateSystem"/>, so Hyperion wire
/// messages, the shipped frame size and, with TLS, mutual TLS under a CA made for the run), on 127.0.0.1, the receiver a
/// member of the holder's cluster. A blob moves by the production path: <see cref="BlobFetcher.EnsureLocalAsync(ActorSystem, IBlobStore, BlobRef, ActorPath, TimeSpan, CancellationToken, int, TimeSpan?, TransferTally?)"/>
/// → <see cref="BlobServerActor"/> → the bulk channel (<see cref="BulkChannel"/>), or on a second receiver with the channel off a stream ref of chunks → <see cref="DirectoryBlobStore.PutAsync"/>. The yardstick copies
/// the same bytes from the holder's blob file over one raw TCP connection (an <see cref="SslStream"/> with the same node
/// certificates when TLS is on) into the receiver's store by the same <see cref="DirectoryBlobStore.PutAsync"/>, so both
/// sides read, hash and fsync the same way and the ratio is the transport's alone. The two alternate (the order swaps
/// every repetition) after one untimed warm-up of each; medians are reported.
/// </summary>
public static class TransferBenchmark
{
    public const string WindowKey = "akka.stream.materializer.stream-ref.buffer-capacity";

    public static IReadOnlyList<TransferRow> Run(TransferBenchOptions options, Action<string>? progress = null) =>
        RunAsync(options, progress).GetAwaiter().GetResult();

    public static async Task<IReadOnlyList<TransferRow>> RunAsync(TransferBenchOptions options, Action<string>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Reps, 1);
        var root = Path.GetFullPath(options.Directory);
        System.IO.Directory.CreateDirectory(root);
        using var certificates = options.Tls ? RunCertificates.Create(Path.Combine(root, $"certs-{Guid.NewGuid():N}"[..14])) : null;
        var holderCredentials = certificates?.Loopback("holder");
        var receiverCredentials = certificates?.Loopback("receiver");
        var holderStore = new DirectoryBlobStore(Path.Combine(root, "holder"));
        var receiverStore = new DirectoryBlobStore(Path.Combine(root, "receiver"));
        foreach (var blob in receiverStore.List()) receiverStore.Delete(blob);

        var holder = FederationHost.CreateSystem(NodeConfig(holderCredentials, options.Tls, options.Window, bulk: true));
        // Two receivers, one with the bulk channel (the shipped setting) and one without (remoting streams), sharing one store.
        var receiver = FederationHost.CreateSystem(NodeConfig(receiverCredentials, options.Tls, options.Window, bulk: true));
        var streamReceiver = FederationHost.CreateSystem(NodeConfig(receiverCredentials, options.Tls, options.Window, bulk: false));
        try
        {
            await Cluster.Get(holder).JoinAsync(Cluster.Get(holder).SelfAddress).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            await Cluster.Get(receiver).JoinAsync(Cluster.Get(holder).SelfAddress).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            await Cluster.Get(streamReceiver).JoinAsync(Cluster.Get(holder).SelfAddress).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            // One blob server per chunk size, so chunk sizes are compared interleaved in one run.
            var holderPaths = options.ChunkSizes.Select((chunk, c) =>
            {
                var name = c == 0 ? BlobServerActor.DefaultName : $"{BlobServerActor.DefaultName}-{chunk}";
                holder.ActorOf(BlobServerActor.Props(holderStore, chunk), name);
                return new RootActorPath(Cluster.Get(holder).SelfAddress) / "user" / name;
            }).ToArray();
            var window = receiver.Settings.Config.GetInt(WindowKey, 32);
            // What is compared with the raw copy: the bulk channel, then the stream ref at each chunk size.
            var variants = new[] { (Path: "bulk", Receiver: receiver, Holder: holderPaths[0], Chunk: 0) }
                .Concat(options.ChunkSizes.Select((chunk, c) => (Path: "stream", Receiver: streamReceiver, Holder: holderPaths[c], Chunk: chunk))).ToArray();

            using var raw = await RawCopy.StartAsync(holderStore, receiverStore,
                holderCredentials is null ? null : Certificate(holderCredentials), receiverCredentials is null ? null : Certificate(receiverCredentials)).ConfigureAwait(false);

            var blobs = options.Sizes.Select((size, i) => holderStore.Put(Random(size, seed: 1000 + i))).ToArray();
            var variantCount = variants.Length;
            var fetchProfile = blobs.SelectMany(_ => variants).Select(_ => new List<Profile>()).ToArray();
            var copyProfile = blobs.Select(_ => new List<Profile>()).ToArray();
            async Task<double> Fetch(BlobRef blob, int c)
            {
                receiverStore.Delete(blob);
                var profile = Profile.Start();
                var watch = Stopwatch.StartNew();
                await BlobFetcher.EnsureLocalAsync(variants[c].Receiver, receiverStore, blob, variants[c].Holder, TimeSpan.FromSeconds(30), maxAttempts: 1).ConfigureAwait(false);
                var seconds = watch.Elapsed.TotalSeconds;
                fetchProfile[Array.IndexOf(blobs, blob) * variantCount + c].Add(profile.Stop(blob.Size, seconds));
                return seconds;
            }
            async Task<double> Copy(BlobRef blob)
            {
                receiverStore.Delete(blob);
                var profile = Profile.Start();
                var watch = Stopwatch.StartNew();
                await raw.CopyAsync(blob).ConfigureAwait(false);
                var seconds = watch.Elapsed.TotalSeconds;
                copyProfile[Array.IndexOf(blobs, blob)].Add(profile.Stop(blob.Size, seconds));
                return seconds;
            }

            foreach (var blob in blobs)
            {
                for (int c = 0; c < variantCount; c++) await Fetch(blob, c).ConfigureAwait(false);
                await Copy(blob).ConfigureAwait(false);
            }
            foreach (var p in fetchProfile.Concat(copyProfile)) p.Clear(); // the warm-up is not measured
            var fetches = blobs.SelectMany(_ => variants).Select(_ => new List<double>()).ToArray();
            var copies = blobs.Select(_ => new List<double>()).ToArray();
            for (int rep = 0; rep < options.Reps; rep++)
                for (int i = 0; i < blobs.Length; i++)
                {
                    // The raw copy and each variant in turn; the order rotates every repetition.
                    for (int k = 0; k <= variantCount; k++)
                    {
                        var slot = (k + rep) % (variantCount + 1);
                        if (slot == variantCount) copies[i].Add(await Copy(blobs[i]).ConfigureAwait(false));
                        else fetches[i * variantCount + slot].Add(await Fetch(blobs[i], slot).ConfigureAwait(false));
                    }
                    progress?.Invoke($"{(options.Tls ? "tls" : "plaintext")} {blobs[i].Size:N0} B rep {rep + 1}: fetch " +
                        string.Join(", ", variants.Select((v, c) => $"{fetches[i * variantCount + c][^1] * 1000:F1} ms ({(v.Chunk == 0 ? "bulk" : $"stream, {v.Chunk} B chunks")})")) + $", raw {copies[i][^1] * 1000:F1} ms");
                }

            foreach (var blob in blobs) receiverStore.Delete(blob);
            return blobs.SelectMany((blob, i) => variants.Select((variant, c) =>
            {
                var f = i * variantCount + c;
                double fetch = Median(fetches[f]), copy = Median(copies[i]);
                // A blob of one chunk goes in the holder's answer on either path.
                var inline = blob.Size <= (variant.Chunk == 0 ? options.ChunkSizes[0] : variant.Chunk);
                return new TransferRow(options.Tls ? "tls" : "plaintext", inline ? "inline" : variant.Path, blob.Size, fetch, blob.Size / fetch / 1e6, copy, blob.Size / copy / 1e6,
                    copy / fetch, variant.Chunk, variant.Chunk == 0 ? 0 : window, options.Reps, fetches[f], copies[i])
                {
                    FetchAllocatedPerByte = Median(fetchProfile[f].Select(p => p.AllocatedPerByte).ToList()),
                    FetchGcPauseFraction = Median(fetchProfile[f].Select(p => p.PauseFraction).ToList()),
                    FetchGen2Collections = fetchProfile[f].Sum(p => p.Gen2),
                    TcpAllocatedPerByte = Median(copyProfile[i].Select(p => p.AllocatedPerByte).ToList()),
                    TcpGcPauseFraction = Median(copyProfile[i].Select(p => p.PauseFraction).ToList()),
                };
            })).ToList();
        }
        finally
        {
            await Task.WhenAll(receiver.Terminate(), streamReceiver.Terminate(), holder.Terminate()).WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        }
    }

    static Config NodeConfig(NodeCredentials? credentials, bool tls, int? window, bool bulk) => ConfigurationFactory.ParseString($"""
        {(window is int w ? $"{WindowKey} = {w}" : "")}
        {BulkChannel.EnabledKey} = {(bulk ? "on" : "off")}
        akka.remote.dot-netty.tcp {"{"} hostname = "127.0.0.1", port = 0, enable-ssl = {(tls ? "on" : "off")} {"}"}
        akka.cluster.seed-nodes = []
        akka.cluster.roles = [server]
        akka.coordinated-shutdown.phases.cluster-leave.timeout = 2s
        {credentials?.Hocon ?? ""}
        """).WithFallback(FederationConfig.Load(["cluster.conf", "serialization.conf"]));

    /// <summary>Allocation and GC pause over one timed transfer (process-wide: both nodes and the copy share this process).</summary>
    readonly record struct Profile(long Allocated, TimeSpan Paused, int Gen2Count, double AllocatedPerByte = 0, double PauseFraction = 0, int Gen2 = 0)
    {
        public static Profile Start() => new(GC.GetTotalAllocatedBytes(precise: false), GC.GetTotalPauseDuration(), GC.CollectionCount(2));

        public Profile Stop(long bytes, double seconds) => this with
        {
            AllocatedPerByte = (GC.GetTotalAllocatedBytes(precise: false) - Allocated) / (double)bytes,
            PauseFraction = (GC.GetTotalPauseDuration() - Paused).TotalSeconds / seconds,
            Gen2 = GC.CollectionCount(2) - Gen2Count,
        };
    }

    static X509Certificate2 Certificate(NodeCredentials credentials)
    {
        using var pem = X509Certificate2.CreateFromPemFile(credentials.Certificate, credentials.Key);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    static byte[] Random(long size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    static double Median(IReadOnlyList<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>The yardstick: one TCP connection from the receiver to a listener on the holder's side (TLS with the nodes'
    /// certificates, mutual, when given), kept open across copies as remoting keeps its association. A copy is a 40-byte
    /// request (hash and size) answered by the blob file's bytes.</summary>
    sealed class RawCopy : IDisposable
    {
        readonly TcpListener listener;
        readonly TcpClient client;
        readonly Stream stream;
        readonly DirectoryBlobStore receiverStore;
        readonly Task serving;

        RawCopy(TcpListener listener, TcpClient client, Stream stream, DirectoryBlobStore receiverStore, Task serving)
        {
            this.listener = listener;
            this.client = client;
            this.stream = stream;
            this.receiverStore = receiverStore;
            this.serving = serving;
        }

        public static async Task<RawCopy> StartAsync(DirectoryBlobStore holderStore, DirectoryBlobStore receiverStore,
            X509Certificate2? holderCertificate, X509Certificate2? receiverCertificate)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var accepted = listener.AcceptTcpClientAsync();
            var client = new TcpClient { NoDelay = true };
            await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port).ConfigureAwait(false);
            var server = await accepted.ConfigureAwait(false);
            server.NoDelay = true;
            Stream serverStream = server.GetStream(), clientStream = client.GetStream();
            if (holderCertificate is not null && receiverCertificate is not null)
            {
                // Peers are authenticated by certificate, as remoting's are; the cost measured is the record layer.
                var serverSsl = new SslStream(serverStream, false, (_, _, _, _) => true);
                var clientSsl = new SslStream(clientStream, false, (_, _, _, _) => true);
                await Task.WhenAll(
                    serverSsl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = holderCertificate, ClientCertificateRequired = true }),
                    clientSsl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", ClientCertificates = [receiverCertificate] })).ConfigureAwait(false);
                serverStream = serverSsl;
                clientStream = clientSsl;
            }
            return new RawCopy(listener, client, clientStream, receiverStore, Serve(holderStore, server, serverStream));
        }

        static async Task Serve(DirectoryBlobStore store, TcpClient server, Stream stream)
        {
            using var _ = server;
            var request = new byte[40];
            try
            {
                while (true)
                {
                    await stream.ReadExactlyAsync(request).ConfigureAwait(false);
                    var blob = new BlobRef(Convert.ToHexStringLower(request.AsSpan(0, 32)), BinaryPrimitives.ReadInt64LittleEndian(request.AsSpan(32)));
                    await using var file = store.OpenRead(blob);
                    await file.CopyToAsync(stream, 81_920).ConfigureAwait(false);
                    await stream.FlushAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is EndOfStreamException or IOException or ObjectDisposedException)
            {
                // the receiver closed the connection: the benchmark is over
            }
        }

        public async Task CopyAsync(BlobRef blob)
        {
            var request = new byte[40];
            Convert.FromHexString(blob.Sha256).CopyTo(request, 0);
            BinaryPrimitives.WriteInt64LittleEndian(request.AsSpan(32), blob.Size);
            await stream.WriteAsync(request).ConfigureAwait(false);
            await stream.FlushAsync().ConfigureAwait(false);
            await receiverStore.PutAsync(new Limited(stream, blob.Size), blob).ConfigureAwait(false);
        }

        public void Dispose()
        {
            stream.Dispose();
            client.Dispose();
            listener.Stop();
            serving.Wait(TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>The next <c>length</c> bytes of a connection, as a stream that then ends.</summary>
    sealed class Limited(Stream inner, long length) : Stream
    {
        long left = length;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (left == 0 || buffer.Length == 0) return 0;
            var n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, left)], cancellationToken).ConfigureAwait(false);
            if (n == 0) throw new EndOfStreamException($"The connection ended {left:N0} bytes early.");
            left -= n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

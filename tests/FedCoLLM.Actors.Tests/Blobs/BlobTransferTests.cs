using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using FedCoLLM.Actors.Blobs;

namespace FedCoLLM.Actors.Tests.Blobs;

/// <summary>
/// Two ActorSystems in this process, connected by real Akka.Remote over TCP on 127.0.0.1, with the default
/// 128,000-byte maximum frame size: blobs many times that size cross only as chunks.
/// </summary>
public sealed class BlobTransferTests : IAsyncLifetime
{
    private static readonly Config RemoteConfig = ConfigurationFactory.ParseString("""
        akka {
          loglevel = WARNING
          stdout-loglevel = WARNING
          suppress-json-serializer-warning = on
          actor.provider = remote
          remote.dot-netty.tcp {
            hostname = 127.0.0.1
            port = 0
          }
        }
        """);

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    private readonly TempDirectory _holderDir = new();
    private readonly TempDirectory _receiverDir = new();
    private readonly DirectoryBlobStore _holderStore;
    private readonly DirectoryBlobStore _receiverStore;
    private readonly ActorSystem _holderSystem;
    private readonly ActorSystem _receiverSystem;
    private readonly ActorPath _holderPath;

    public BlobTransferTests()
    {
        _holderStore = new DirectoryBlobStore(_holderDir.Path);
        _receiverStore = new DirectoryBlobStore(_receiverDir.Path);
        _holderSystem = ActorSystem.Create("holder", RemoteConfig);
        _receiverSystem = ActorSystem.Create("receiver", RemoteConfig);
        _holderSystem.ActorOf(BlobServerActor.Props(_holderStore), BlobServerActor.DefaultName);
        var address = ((ExtendedActorSystem)_holderSystem).Provider.DefaultAddress;
        Assert.NotEqual(0, address.Port);
        _holderPath = new RootActorPath(address) / "user" / BlobServerActor.DefaultName;
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_receiverSystem.Terminate(), _holderSystem.Terminate());
        _holderDir.Dispose();
        _receiverDir.Dispose();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_3_MiB_blob_crosses_the_default_frame_size_in_chunks_and_arrives_verified()
    {
        var bytes = TempDirectory.RandomBytes(3 << 20, seed: 42);
        var blob = _holderStore.Put(bytes);
        Assert.False(_receiverStore.Contains(blob));

        var watch = Stopwatch.StartNew();
        var fetched = await BlobFetcher.EnsureLocalAsync(_receiverSystem, _receiverStore, blob, _holderPath, Timeout, Ct);
        watch.Stop();

        Assert.Equal(blob, fetched);
        Assert.Equal(bytes, _receiverStore.Read(blob)); // Read re-verifies size and hash
        Assert.Equal([Path.Combine(blob.Sha256[..2], blob.Sha256)], _receiverDir.Files());
        TestContext.Current.SendDiagnosticMessage($"3 MiB over loopback remoting: {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task The_offer_and_its_stream_ref_also_cross_when_wire_messages_are_bound_to_Hyperion()
    {
        var hyperion = ConfigurationFactory.ParseString("""
            akka.actor {
              serializers.hyperion = "Akka.Serialization.HyperionSerializer, Akka.Serialization.Hyperion"
              serialization-bindings { "FedCoLLM.Actors.Protocol.IWireMessage, FedCoLLM.Actors" = hyperion }
            }
            """).WithFallback(RemoteConfig);
        using var holderDir = new TempDirectory();
        using var receiverDir = new TempDirectory();
        var holderStore = new DirectoryBlobStore(holderDir.Path);
        var receiverStore = new DirectoryBlobStore(receiverDir.Path);
        var holderSystem = ActorSystem.Create("holder-hyperion", hyperion);
        var receiverSystem = ActorSystem.Create("receiver-hyperion", hyperion);
        try
        {
            Assert.Equal("HyperionSerializer",
                receiverSystem.Serialization.FindSerializerForType(typeof(BlobOffer)).GetType().Name);
            holderSystem.ActorOf(BlobServerActor.Props(holderStore), BlobServerActor.DefaultName);
            var holder = new RootActorPath(((ExtendedActorSystem)holderSystem).Provider.DefaultAddress) / "user" / BlobServerActor.DefaultName;
            var bytes = TempDirectory.RandomBytes(1 << 20, seed: 11);
            var blob = holderStore.Put(bytes);

            await BlobFetcher.EnsureLocalAsync(receiverSystem, receiverStore, blob, holder, Timeout, Ct);

            Assert.Equal(bytes, receiverStore.Read(blob));
        }
        finally
        {
            await Task.WhenAll(receiverSystem.Terminate(), holderSystem.Terminate());
        }
    }

    [Fact]
    public async Task A_blob_of_one_chunk_crosses_in_the_answer_itself_with_Hyperion_and_a_damaged_one_is_refused_by_the_receiver()
    {
        var hyperion = ConfigurationFactory.ParseString("""
            akka.actor {
              serializers.hyperion = "Akka.Serialization.HyperionSerializer, Akka.Serialization.Hyperion"
              serialization-bindings { "FedCoLLM.Actors.Protocol.IWireMessage, FedCoLLM.Actors" = hyperion }
            }
            """).WithFallback(RemoteConfig);
        using var holderDir = new TempDirectory();
        using var receiverDir = new TempDirectory();
        var holderStore = new DirectoryBlobStore(holderDir.Path);
        var receiverStore = new DirectoryBlobStore(receiverDir.Path);
        var holderSystem = ActorSystem.Create("holder-inline", hyperion);
        var receiverSystem = ActorSystem.Create("receiver-inline", hyperion);
        try
        {
            holderSystem.ActorOf(BlobServerActor.Props(holderStore), BlobServerActor.DefaultName);
            var holder = new RootActorPath(((ExtendedActorSystem)holderSystem).Provider.DefaultAddress) / "user" / BlobServerActor.DefaultName;
            var bytes = TempDirectory.RandomBytes(BlobServerActor.DefaultChunkSize, seed: 5);
            var blob = holderStore.Put(bytes);

            // The answer carries the bytes: no stream ref for a blob of one chunk.
            var answer = await receiverSystem.ActorSelection(holder).Ask<object>(new FetchBlob(blob), Timeout, Ct);
            Assert.Equal(bytes, Assert.IsType<BlobInline>(answer).Bytes);

            var tally = new TransferTally();
            await BlobFetcher.EnsureLocalAsync(receiverSystem, receiverStore, blob, holder, Timeout, Ct, tally: tally);
            Assert.Equal(bytes, receiverStore.Read(blob));
            Assert.Equal(new TransferCount(blob.Size, 1, 1), tally.Count());

            // Same size, other bytes behind the holder's back: served, and refused by the receiver's verification.
            var other = holderStore.Put(TempDirectory.RandomBytes(1000, seed: 6));
            TempDirectory.FlipByte(holderStore.PathOf(other), 500);
            var e = await Assert.ThrowsAsync<BlobFetchException>(() =>
                BlobFetcher.EnsureLocalAsync(receiverSystem, receiverStore, other, holder, Timeout, Ct, maxAttempts: 1));
            Assert.IsType<BlobIntegrityException>(e.InnerException);
            Assert.False(receiverStore.Contains(other));
        }
        finally
        {
            await Task.WhenAll(receiverSystem.Terminate(), holderSystem.Terminate());
        }
    }

    [Fact]
    public async Task A_missing_blob_is_answered_with_BlobMissing_over_the_wire()
    {
        var absent = BlobRef.Of(TempDirectory.RandomBytes(10, seed: 1));
        var holder = _receiverSystem.ActorSelection(_holderPath);

        var reply = await holder.Ask<object>(new FetchBlob(absent), Timeout, Ct);

        Assert.Equal(new BlobMissing(absent), reply);
    }

    [Fact]
    public async Task Fetching_a_missing_blob_fails_at_once_with_a_clear_error()
    {
        var absent = BlobRef.Of(TempDirectory.RandomBytes(10, seed: 1));

        var e = await Assert.ThrowsAsync<BlobFetchException>(() =>
            BlobFetcher.EnsureLocalAsync(_receiverSystem, _receiverStore, absent, _holderPath, Timeout, Ct));

        Assert.IsType<BlobNotFoundException>(e.InnerException);
        Assert.Equal(1, e.Attempts); // the holder answered: no retry
        Assert.Contains("does not have", e.Message);
        Assert.Contains(absent.ToString(), e.Message);
        Assert.Empty(_receiverDir.Files());
    }

    [Fact]
    public async Task A_holder_serving_corrupt_bytes_fails_the_fetch_with_an_integrity_error_and_stores_nothing()
    {
        var bytes = TempDirectory.RandomBytes(500_000, seed: 7);
        var blob = _holderStore.Put(bytes);
        TempDirectory.FlipByte(_holderStore.PathOf(blob), 300_000); // behind the store's back, same size

        var e = await Assert.ThrowsAsync<BlobFetchException>(() =>
            BlobFetcher.EnsureLocalAsync(_receiverSystem, _receiverStore, blob, _holderPath, Timeout, Ct, maxAttempts: 2));

        var integrity = Assert.IsType<BlobIntegrityException>(e.InnerException);
        Assert.Equal(blob, integrity.Expected);
        Assert.Equal(blob.Size, integrity.ActualSize);
        Assert.NotEqual(blob.Sha256, integrity.ActualSha256);
        Assert.Equal(2, e.Attempts);
        Assert.Contains("after 2 attempts", e.Message);
        Assert.False(_receiverStore.Contains(blob));
        Assert.Empty(_receiverDir.Files()); // temp files removed too
    }

    [Fact]
    public async Task A_holder_that_does_not_answer_times_out_after_the_bounded_retries()
    {
        var blob = BlobRef.Of(TempDirectory.RandomBytes(10, seed: 3));
        var nobody = new RootActorPath(((ExtendedActorSystem)_holderSystem).Provider.DefaultAddress) / "user" / "nobody";

        var e = await Assert.ThrowsAsync<BlobFetchException>(() => BlobFetcher.EnsureLocalAsync(
            _receiverSystem, _receiverStore, blob, nobody, TimeSpan.FromMilliseconds(300), Ct, maxAttempts: 2));

        Assert.IsType<TimeoutException>(e.InnerException);
        Assert.Equal(2, e.Attempts);
    }

    [Fact]
    public async Task Fetching_a_blob_that_is_already_local_sends_no_message()
    {
        var blob = _receiverStore.Put(TempDirectory.RandomBytes(1000, seed: 5));
        var holder = new RecordingHolder();

        var fetched = await BlobFetcher.EnsureLocalAsync(_receiverSystem, _receiverStore, blob, holder, Timeout, Ct);

        Assert.Equal(blob, fetched);
        Assert.Empty(holder.Received);
    }

    /// <summary>An <see cref="ICanTell"/> that only records what it is told.</summary>
    private sealed class RecordingHolder : ICanTell
    {
        public List<object> Received { get; } = [];

        public void Tell(object message, IActorRef sender)
        {
            lock (Received)
                Received.Add(message);
        }
    }
}

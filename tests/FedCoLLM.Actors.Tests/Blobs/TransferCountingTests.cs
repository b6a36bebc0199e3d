using Akka.Actor;
using Akka.Configuration;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Hosting;

namespace FedCoLLM.Actors.Tests.Blobs;

/// <summary>
/// The communication counters (<see cref="TransferTally"/>) on the real transfer path: two ActorSystems in this process,
/// a "server" and a "client" node, each with its store, blob server and custody, connected by Akka.Remote over TCP on
/// 127.0.0.1 with the default 128,000-byte frame. What is counted is what arrived: payload bytes and the 64 KiB chunks
/// (one remoting message each) they came in.
/// </summary>
public sealed class TransferCountingTests : IAsyncLifetime
{
    static readonly Config RemoteConfig = ConfigurationFactory.ParseString("""
        akka {
          loglevel = ERROR
          stdout-loglevel = ERROR
          suppress-json-serializer-warning = on
          actor.provider = remote
          remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        }
        """);

    sealed class Node : IAsyncDisposable
    {
        public readonly TempDirectory Dir = new();
        public readonly DirectoryBlobStore Store;
        public readonly ActorSystem System;
        public readonly BlobCustody Custody;

        public Node(string name)
        {
            Store = new DirectoryBlobStore(Dir.Path);
            System = ActorSystem.Create(name, RemoteConfig);
            System.ActorOf(BlobServerActor.Props(Store), BlobServerActor.DefaultName);
            var path = new RootActorPath(((ExtendedActorSystem)System).Provider.DefaultAddress) / "user" / BlobServerActor.DefaultName;
            Custody = new BlobCustody(Store, path.ToString(), new ProtocolTimeouts());
        }

        public async ValueTask DisposeAsync()
        {
            await System.Terminate();
            Dir.Dispose();
        }
    }

    readonly Node server = new("server");
    readonly Node client = new("client");

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    static long ChunksOf(long size) => (size + BlobServerActor.DefaultChunkSize - 1) / BlobServerActor.DefaultChunkSize;

    [Fact]
    public async Task Each_direction_counts_exactly_the_blob_it_moved_and_a_blob_already_here_counts_nothing()
    {
        var update = client.Store.Put(TempDirectory.RandomBytes(300_001, seed: 1)); // the client's "update"
        var adapter = server.Store.Put(TempDirectory.RandomBytes(200_000, seed: 2)); // the server's "global adapter"

        var up = new TransferTally();
        await server.Custody.EnsureLocalAsync(server.System, update, client.Custody.ServerPath, TestContext.Current.CancellationToken, up);
        var down = new TransferTally();
        await client.Custody.EnsureLocalAsync(client.System, adapter, server.Custody.ServerPath, TestContext.Current.CancellationToken, down);

        Assert.Equal(new TransferCount(update.Size, ChunksOf(update.Size), 1), up.Count());
        Assert.Equal(new TransferCount(adapter.Size, ChunksOf(adapter.Size), 1), down.Count());
        Assert.Equal(5, up.Chunks); // 4 full 64 KiB chunks and the rest: the chunking the counts rest on

        var again = new TransferTally();
        await client.Custody.EnsureLocalAsync(client.System, adapter, server.Custody.ServerPath, TestContext.Current.CancellationToken, again);
        Assert.Equal(TransferCount.None, again.Count());
    }

    [Fact]
    public async Task Concurrent_fetches_of_one_blob_move_and_count_it_once()
    {
        var adapter = server.Store.Put(TempDirectory.RandomBytes(500_000, seed: 3));
        var tallies = Enumerable.Range(0, 3).Select(_ => new TransferTally()).ToArray();

        await Task.WhenAll(tallies.Select(t => client.Custody.EnsureLocalAsync(client.System, adapter, server.Custody.ServerPath, TestContext.Current.CancellationToken, t)));

        Assert.Equal(adapter.Size, tallies.Sum(t => t.Bytes));
        Assert.Equal(1, tallies.Sum(t => t.Transfers));
    }

    [Fact]
    public async Task A_transfer_that_is_retried_counts_every_attempt()
    {
        var bytes = TempDirectory.RandomBytes(100_000, seed: 4);
        var blob = server.Store.Put(bytes);
        // Same size, wrong bytes: served in full, refused by the receiver's hash check, fetched again.
        TempDirectory.FlipByte(Path.Combine(server.Dir.Path, blob.Sha256[..2], blob.Sha256), 50_000);
        var holder = ActorPath.Parse(server.Custody.ServerPath);
        var tally = new TransferTally();

        await Assert.ThrowsAsync<BlobFetchException>(() => BlobFetcher.EnsureLocalAsync(client.System, client.Store, blob, holder,
            TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken, maxAttempts: 2, tally: tally));

        Assert.Equal(new TransferCount(2 * blob.Size, 2 * ChunksOf(blob.Size), 2), tally.Count());
        Assert.False(client.Store.Contains(blob));
    }
}

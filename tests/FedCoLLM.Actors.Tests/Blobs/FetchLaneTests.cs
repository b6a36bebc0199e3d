using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Configuration;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Hosting;

namespace FedCoLLM.Actors.Tests.Blobs;

/// <summary>
/// <see cref="BlobCustody"/> sends at most <see cref="ProtocolTimeouts.BlobFetchesPerHolder"/> fetches to one holder at
/// once. The holder here is a real <see cref="BlobServerActor"/> behind a gate that holds every FetchBlob until the test
/// opens it, so what the holder was asked while closed is exactly what the custody had in flight.
/// </summary>
public sealed class FetchLaneTests : IAsyncLifetime
{
    sealed record Open;

    /// <summary>Holds fetches while closed (counting them); once opened, passes everything to the blob server.</summary>
    sealed class Gate : ReceiveActor
    {
        public Gate(IActorRef server, StrongBox<int> heldFetches)
        {
            var held = new List<(object Message, IActorRef Sender)>();
            var open = false;
            Receive<Open>(_ =>
            {
                open = true;
                foreach (var (message, sender) in held) server.Tell(message, sender);
                held.Clear();
            });
            ReceiveAny(message =>
            {
                if (open) server.Forward(message);
                else
                {
                    if (message is FetchBlob) Interlocked.Increment(ref heldFetches.Value);
                    held.Add((message, Sender));
                }
            });
        }
    }

    readonly ActorSystem system = ActorSystem.Create("lanes", ConfigurationFactory.ParseString("akka.loglevel = ERROR"));
    readonly TempDirectory holderDir = new(), fetcherDir = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await system.Terminate();
        holderDir.Dispose();
        fetcherDir.Dispose();
    }

    [Fact]
    public async Task At_most_the_lane_width_of_fetches_reach_one_holder_at_once_and_the_queued_ones_complete_after()
    {
        var holderStore = new DirectoryBlobStore(holderDir.Path);
        var blobs = Enumerable.Range(1, 7).Select(i => holderStore.Put(TempDirectory.RandomBytes(1_000 + i, seed: i))).ToArray();
        var server = system.ActorOf(BlobServerActor.Props(holderStore), "blob-server");
        var held = new StrongBox<int>();
        var gate = system.ActorOf(Props.Create(() => new Gate(server, held)), "gate");
        var fetcherStore = new DirectoryBlobStore(fetcherDir.Path);
        // Fetch timeouts far above the test's waits: a held fetch must wait for the gate, not time out.
        var custody = new BlobCustody(fetcherStore, "akka://lanes/user/unused", new ProtocolTimeouts { BlobFetchesPerHolder = 3, BlobFetch = TimeSpan.FromMinutes(1) });

        var fetches = blobs.Select(b => custody.EnsureLocalAsync(system, b, gate.Path.ToString(), TestContext.Current.CancellationToken)).ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref held.Value) < 3 && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(20, TestContext.Current.CancellationToken);
        await Task.Delay(500, TestContext.Current.CancellationToken); // room for a fourth fetch, were it sent
        Assert.Equal(3, Volatile.Read(ref held.Value));
        Assert.All(fetches, f => Assert.False(f.IsCompleted));

        gate.Tell(new Open());
        var fetched = await Task.WhenAll(fetches).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(blobs, fetched);
        Assert.All(blobs, b => Assert.True(fetcherStore.Contains(b)));
    }
}

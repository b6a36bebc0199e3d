using Akka.Actor;
using Akka.TestKit.Xunit;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Client;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Actors.Tests.Blobs;

namespace FedCoLLM.Actors.Tests.Client;

/// <summary>
/// The job moved to another server node while a client was fetching its round's adapter from the old one (found by
/// `fedcollm chaos`: the job host killed mid-transfer). The new host resends the task naming itself as the holder;
/// the client must fetch from there instead of retrying the dead holder until the deadline.
/// </summary>
public sealed class ClientHolderSpecs : TestKit
{
    sealed class EchoRunner(IBlobStore store) : IStepRunner
    {
        public StepResult Run(StepRequest request, string? dataPath, IProgress<StepProgress> progress, CancellationToken cancellation) =>
            new([store.Put([.. store.Read(request.Inputs[0]), 1])], new Dictionary<string, double> { ["train_loss"] = 1 }, SampleCount: 3);
    }

    [Fact]
    public void A_task_resent_by_a_new_holder_is_fetched_from_the_new_holder()
    {
        using var root = new TempDirectory();
        var serverStore = new DirectoryBlobStore(Path.Combine(root.Path, "server"));
        var adapter = serverStore.Put([1, 2, 3, 4]);
        Sys.ActorOf(BlobServerActor.Props(serverStore), "new-host-blobs");
        var newHolder = "akka://" + Sys.Name + "/user/new-host-blobs";
        var deadHolder = "akka://" + Sys.Name + "/user/dead-host-blobs";

        var clientStore = new DirectoryBlobStore(Path.Combine(root.Path, "client"));
        var timeouts = new ProtocolTimeouts { BlobFetch = TimeSpan.FromMilliseconds(300) };
        var services = new NodeServices(new BlobCustody(clientStore, "akka://" + Sys.Name + "/user/client-blobs", timeouts), new EchoRunner(clientStore), timeouts);
        var servers = CreateTestProbe();
        var client = Sys.ActorOf(ClientActor.Props("job", "alice", "unused.jsonl", servers.Ref, services));
        servers.ExpectMsg<RegisterClient>(cancellationToken: TestContext.Current.CancellationToken);
        client.Tell(new ClientRegistered("job", "alice", TimeSpan.FromSeconds(5)));

        client.Tell(new TrainRound("job", 1, 1, adapter, 7, deadHolder));
        servers.ExpectNoMsg(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken); // the dead holder never answers
        client.Tell(new TrainRound("job", 1, 1, adapter, 7, newHolder));

        var update = servers.FishForMessage<SubmitClientUpdate>(_ => true, TimeSpan.FromSeconds(10), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(1, update.Round);
        Assert.Equal(3, update.SampleCount);
        Assert.True(clientStore.Contains(adapter));
    }
}

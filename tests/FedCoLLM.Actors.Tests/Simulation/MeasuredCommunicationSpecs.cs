using Akka.Actor;
using Akka.Configuration;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Simulation;
using FedCoLLM.Actors.Tests.Actors;
using FedCoLLM.Actors.Tests.Partitions;

namespace FedCoLLM.Actors.Tests.Simulation;

/// <summary>
/// The shape of <c>fedcollm run</c>: one node with every role whose client silos keep stores of their own
/// (<see cref="NodeOptions.ClientStores"/>), so adapters move between silo and server through the blob transfer layer. The
/// real actors, journal and transfers run; only the steps are simulated (adapter-sized blobs, no TorchSharp), which keeps
/// the two rounds to seconds. The job's journal must then show what each client sent and received, per round and direction,
/// and that each took the final adapter home.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class MeasuredCommunicationSpecs
{
    static long ChunksOf(long size) => (size + BlobServerActor.DefaultChunkSize - 1) / BlobServerActor.DefaultChunkSize;

    static TransferCount MovedOnce(BlobRef blob) => new(blob.Size, ChunksOf(blob.Size), 1);

    [Fact]
    public async Task Every_upload_and_download_is_journaled_with_the_bytes_moved_including_the_final_download()
    {
        using var run = new RunDirectory();
        var ids = SimulatedJob.ClientIds(2);
        var (spec, state) = await RunToFinalDownloads(run, SimulatedSizes.Uniform(150_000), ids, "measured", ownStores: true);

        var adapter = state.History[0].Slm.Size;
        foreach (var round in new[] { 1, 2 })
        {
            // Up: each client's update, fetched by the server once, in full: clients × adapter bytes.
            var ups = state.Transfers.Where(t => t.Round == round && t.Direction == ClientTransfer.Up).ToArray();
            Assert.Equal(ids, ups.Select(t => t.ClientId).Order(StringComparer.Ordinal));
            Assert.All(ups, t => Assert.Equal((ClientTransfer.Update, adapter, MovedOnce(t.Blob)), (t.What, t.Blob.Size, t.Count)));
            Assert.Equal(ids.Count * adapter, ups.Sum(t => t.Count.Bytes));
            // Down: the round's distilled adapter, broadcast and fetched by each client into its own store.
            foreach (var id in ids)
            {
                var broadcast = Assert.Single(state.Transfers, t => t.Round == round && t.ClientId == id && t.What == ClientTransfer.Broadcast);
                Assert.Equal((state.History[round - 1].Slm, MovedOnce(broadcast.Blob)), (broadcast.Blob, broadcast.Count));
            }
        }
        foreach (var id in ids)
        {
            // Round 1 starts from the initial adapter and the job definition; round 2 from the adapter already prefetched.
            var start = state.Transfers.Where(t => t.ClientId == id && t.Direction == ClientTransfer.Down && t.What != ClientTransfer.Broadcast).ToArray();
            Assert.Equal([(1, ClientTransfer.GlobalSlm), (1, ClientTransfer.Definition)], start.Select(t => (t.Round, t.What)).Order());
            Assert.All(start, t => Assert.Equal(MovedOnce(t.Blob), t.Count));
            Assert.Equal(spec.DefinitionRef, start.Single(t => t.What == ClientTransfer.Definition).Blob);
        }

        // The final download: every client holds the job's final SLM adapter in its own store, and the report says so.
        var final = state.History[^1].Slm;
        Assert.All(CommunicationSummary.FinalDownloads(state), f => Assert.Equal(new ClientTransfer(2, f.ClientId, ClientTransfer.Down, ClientTransfer.Broadcast, final, MovedOnce(final)), f.Download));
        Assert.All(ids, id => Assert.True(new DirectoryBlobStore(Path.Combine(run.Path, "client-blobs", id)).Contains(final), id));
        Assert.All(CommunicationSummary.PerRoundAndClient(state), r => Assert.Equal(r.UpBlobBytes, r.UpBytes));
    }

    /// <summary>Silos sharing the server's store (no <see cref="NodeOptions.ClientStores"/>) move nothing: a broadcast that
    /// moved nothing is not journaled, except the final one, which every client reports (zero bytes), so a report waiting
    /// for the final downloads ends as soon as the clients have the adapter.</summary>
    [Fact]
    public async Task Clients_that_moved_nothing_still_report_the_final_download_and_only_it()
    {
        using var run = new RunDirectory();
        var ids = SimulatedJob.ClientIds(2);
        var (_, state) = await RunToFinalDownloads(run, SimulatedSizes.Uniform(20_000), ids, "shared-store", ownStores: false);

        var downs = state.Transfers.Where(t => t.Direction == ClientTransfer.Down).ToArray();
        Assert.Equal(ids.Select(id => (2, id, ClientTransfer.Broadcast, state.History[^1].Slm, TransferCount.None)),
            downs.Select(t => (t.Round, t.ClientId, t.What, t.Blob, t.Count)).OrderBy(t => t.ClientId, StringComparer.Ordinal));
    }

    /// <summary>Runs a two-round simulated job on one node with every role until it completed and every client reported
    /// its final download. <paramref name="ownStores"/>: each client silo keeps a store of its own
    /// (<see cref="NodeOptions.ClientStores"/>), as in <c>fedcollm run</c>; otherwise the silos share the server's.</summary>
    static async Task<(JobSpec Spec, RoundState State)> RunToFinalDownloads(RunDirectory run, SimulatedSizes sizes, IReadOnlyList<string> ids, string jobId, bool ownStores)
    {
        var config = ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            fedcollm.protocol.directory-poll = 200ms
            fedcollm.protocol.client-resend = 500ms
            fedcollm.protocol.client-register = 200ms
            """).WithFallback(FederationConfig.Load(["local.conf", "sharding.conf", "serialization.conf", "persistence-sqlite.conf"],
                $"fedcollm.sqlite-file = \"{run.Journal.Replace("\\", "/")}\""));
        var system = FederationHost.CreateSystem(config);
        try
        {
            var node = FederationNode.Start(system, new NodeOptions(run.Blobs, new SimulatedStepRunner(new DirectoryBlobStore(run.Blobs), sizes))
            {
                Clients = ids.Select(id => new LocalClient(id, Path.Combine(run.Path, "data", id))).ToArray(),
                ClientStores = ownStores ? (Path.Combine(run.Path, "client-blobs"), store => new SimulatedStepRunner(store, sizes)) : null,
            });
            var spec = SimulatedJob.Spec(jobId, ids.Count, rounds: 2, sizes);
            var accepted = await node.Servers.Ask<JobAccepted>(new StartFederation(spec.JobId, spec), TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            Assert.Equal(Outcome.Accepted, accepted.Outcome);

            var state = await Eventually.Until(async () => (await node.Servers.Ask<JobStatus>(new GetJobStatus(spec.JobId), TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).State,
                s => s.Phase.IsTerminal && s.FinalDownloadsPending().Count == 0, TimeSpan.FromSeconds(90),
                s => $"the job to complete and its final downloads to be reported; at round {s.Round} {s.Phase}, {s.Transfers.Count} transfers");
            Assert.Equal(RoundPhase.Completed, state.Phase);
            return (spec, state);
        }
        finally
        {
            await system.Terminate();
        }
    }
}

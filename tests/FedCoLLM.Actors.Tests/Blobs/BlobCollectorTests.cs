using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Tests.Rounds;
using RoundBlobs = FedCoLLM.Actors.Tests.Rounds.Blobs;

namespace FedCoLLM.Actors.Tests.Blobs;

/// <summary>
/// Blob GC decided from journals (the round state machine's own events, <see cref="Federation"/>) on a real directory
/// store: an ended job keeps its definition, final adapters and last round's updates and loses the rest; nothing a job
/// that has not ended names is touched, nor a blob written since the oldest running job started; a re-put refreshes a
/// blob; a sweep that crashed half-way is finished by the next.
/// </summary>
public sealed class BlobCollectorTests : IDisposable
{
    static readonly DateTimeOffset Old = Federation.T0.AddDays(-1);
    readonly TempDirectory dir = new();
    readonly DirectoryBlobStore store;

    public BlobCollectorTests() => store = new DirectoryBlobStore(dir.Path);

    public void Dispose() => dir.Dispose();

    static JobBlobs Ended(string id) => JobBlobs.Of(id, Federation.Started(Specs.Default with { JobId = id }).RunToEnd().Journal);

    /// <summary>Files of the right size for every blob (GC does not read them), last written at <paramref name="at"/>.</summary>
    void Materialize(IEnumerable<BlobRef> blobs, DateTimeOffset at)
    {
        foreach (var blob in blobs)
        {
            var path = store.PathOf(blob);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, new byte[blob.Size]);
            File.SetLastWriteTimeUtc(path, at.UtcDateTime);
        }
    }

    HashSet<BlobRef> Stored() => store.List().ToHashSet();

    [Fact]
    public void An_ended_job_keeps_its_definition_final_adapters_and_last_round_updates_and_loses_the_rest()
    {
        var job = Ended("done");
        Assert.True(job.Ended);
        var spec = Specs.Default with { JobId = "done" };
        var lastUpdates = Specs.Clients.Select(c => RoundBlobs.Update(2, c)).ToHashSet();
        var final = job.Retained!.Except(lastUpdates).Except([spec.DefinitionRef]).ToList();
        Assert.Equal(2, final.Count); // the final SLM and LLM
        Assert.Superset(lastUpdates.ToHashSet(), job.Retained!.ToHashSet());
        Assert.Contains(RoundBlobs.Update(1, "alice"), job.Named);
        Materialize(job.Named, Old);

        var collection = BlobCollector.Collect(store, [job]);

        Assert.Equal(job.Retained!.ToHashSet(), Stored());
        Assert.Equal(job.Named.Count - job.Retained!.Count, collection.Removed);
        Assert.Equal(job.Named.Except(job.Retained!).Sum(b => b.Size), collection.BytesFreed);
        Assert.Equal(0, BlobCollector.Collect(store, [job]).Removed); // idempotent
    }

    [Fact]
    public void A_running_job_keeps_what_it_names_and_what_was_written_since_it_started()
    {
        var done = Ended("done");
        var running = new Federation { Now = Federation.T0.AddHours(1) }.Given(new StartJob(Specs.Default with { JobId = "running" }));
        running.RunTo(1, RoundPhase.SlmDistillation);
        var live = JobBlobs.Of("running", running.Journal);
        Assert.False(live.Ended);
        var shared = done.Named.Intersect(live.Named).ToHashSet();
        Assert.Contains(RoundBlobs.Update(1, "bob"), shared); // the fake refs are the same in both jobs
        Materialize(done.Named.Union(live.Named), Old);
        // Written after the running job started: it may be that job's output, not journaled yet.
        var recent = done.Named.Except(done.Retained!).Except(shared).First();
        File.SetLastWriteTimeUtc(store.PathOf(recent), live.StartedAt!.Value.UtcDateTime.AddMinutes(1));

        var collection = BlobCollector.Collect(store, [done, live], now: running.Now.AddHours(1));

        var expected = done.Retained!.Union(live.Named).Append(recent).ToHashSet();
        Assert.Equal(expected, Stored());
        Assert.Equal(1, collection.SparedAsRecent);
        Assert.Equal(1, collection.RunningJobs);
    }

    [Fact]
    public void Putting_a_blob_again_refreshes_it_so_a_sweep_spares_it()
    {
        var bytes = TempDirectory.RandomBytes(1000, seed: 1);
        var blob = store.Put(bytes);
        File.SetLastWriteTimeUtc(store.PathOf(blob), Old.UtcDateTime);
        var cutoff = DateTime.UtcNow.AddSeconds(-5);
        Assert.Equal(blob, store.Put(bytes)); // a step that produced the same bytes again
        Assert.False(store.Collect(blob, cutoff));
        Assert.Equal(bytes, store.Read(blob));
        File.SetLastWriteTimeUtc(store.PathOf(blob), Old.UtcDateTime);
        Assert.True(store.Collect(blob, cutoff));
        Assert.False(store.Contains(blob));
        Assert.Null(store.Collect(blob, cutoff));
        Assert.Equal(blob, store.Put(bytes)); // and a later put brings it back
        Assert.Equal(bytes, store.Read(blob));
    }

    [Fact]
    public void A_sweep_that_crashed_half_way_is_finished_by_the_next()
    {
        var job = Ended("done");
        Materialize(job.Named, Old);
        var kept = job.Retained!.First();
        var removed = job.Named.Except(job.Retained!).First();
        // The crash: one kept blob and one intermediate renamed aside, a writer's temp file left behind.
        File.Move(store.PathOf(kept), store.PathOf(kept) + DirectoryBlobStore.CollectingSuffix);
        File.Move(store.PathOf(removed), store.PathOf(removed) + DirectoryBlobStore.CollectingSuffix);
        var temp = Path.Combine(Path.GetDirectoryName(store.PathOf(kept))!, $".{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temp, "partial");
        File.SetLastWriteTimeUtc(temp, Old.UtcDateTime);

        var collection = BlobCollector.Collect(store, [job]);

        Assert.Equal(job.Retained!.ToHashSet(), Stored());
        Assert.Equal(1, collection.TempFilesRemoved);
        var blobFiles = store.List().Select(store.PathOf).ToHashSet();
        Assert.All(Directory.EnumerateFiles(store.Root, "*", SearchOption.AllDirectories), f => Assert.Contains(f, blobFiles)); // no aside copy, no temp file
    }
}

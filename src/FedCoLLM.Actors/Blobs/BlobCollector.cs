using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Server;

namespace FedCoLLM.Actors.Blobs;

/// <summary>What a sweep did: blobs removed and their bytes, candidates spared because they were written or re-put after
/// the cut-off (a running job may be about to name them), and crash leftovers (temp files) removed.</summary>
public sealed record BlobCollection(int Removed, long BytesFreed, int SparedAsRecent, int TempFilesRemoved, int EndedJobs, int RunningJobs)
{
    public override string ToString() =>
        $"blob GC: removed {Removed} intermediate blob(s) of {EndedJobs} ended job(s), {BytesFreed / 1e6:F1} MB; " +
        $"kept every blob of {RunningJobs} running job(s)" + (SparedAsRecent > 0 ? $", spared {SparedAsRecent} written since the oldest running job started" : "") +
        (TempFilesRemoved > 0 ? $", removed {TempFilesRemoved} temp file(s) left by a crash" : "");
}

/// <summary>
/// Garbage collection of a node's blob store, decided from the journal alone (no GC state of its own, so a crash in the
/// middle leaves every blob either whole or gone, and the next sweep finishes the job). A blob is removed when an ended
/// job named it, it is not kept by any ended job (<see cref="JobBlobs.Retained"/>: definition and final adapters), no
/// job that has not ended names it, and its file was last written before the cut-off: the start of the oldest running
/// job (less <see cref="ClockSkew"/>), or the sweep's own start. The cut-off covers what the journal cannot show yet: a
/// running job's step that put a blob (or re-put one already there, which refreshes its time,
/// <see cref="DirectoryBlobStore.Put(ReadOnlySpan{byte})"/>) whose event is not journaled yet. Blobs no journal names
/// (results of a step a crash interrupted, other jobs' copies on a client node) are left alone.
/// </summary>
/// <remarks>Runs when <c>fedcollm run</c> starts and after its jobs end, and when a server-role <c>fedcollm node</c>
/// starts (docs/benchmarks.md, "blob garbage collection").</remarks>
public static class BlobCollector
{
    /// <summary>How much earlier than a running job's journaled start a blob must have been written to be removed: the
    /// job's node and this one may disagree on the time.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(10);

    /// <summary>Temp files (<c>.GUID.tmp</c>) older than this were left by a crashed writer.</summary>
    public static readonly TimeSpan TempFileAge = TimeSpan.FromHours(1);

    /// <summary>The blobs an ended job named that nothing keeps, and the cut-off (null: no job is running).</summary>
    public static (IReadOnlySet<BlobRef> Candidates, DateTimeOffset? RunningSince) Plan(IReadOnlyCollection<JobBlobs> jobs)
    {
        var keep = new HashSet<BlobRef>();
        foreach (var job in jobs)
            keep.UnionWith(job.Ended ? job.Retained! : job.Named);
        var candidates = jobs.Where(j => j.Ended).SelectMany(j => j.Named).Where(b => !keep.Contains(b)).ToHashSet();
        var running = jobs.Where(j => !j.Ended).Select(j => j.StartedAt ?? DateTimeOffset.MinValue).ToList();
        return (candidates, running.Count == 0 ? null : running.Min());
    }

    /// <summary>Removes <paramref name="jobs"/>' intermediate blobs from <paramref name="store"/>.</summary>
    public static BlobCollection Collect(DirectoryBlobStore store, IReadOnlyCollection<JobBlobs> jobs, DateTimeOffset? now = null)
    {
        var sweepStart = now ?? DateTimeOffset.UtcNow;
        var (candidates, runningSince) = Plan(jobs);
        var cutoff = runningSince is { } since ? Min(sweepStart, since == DateTimeOffset.MinValue ? since : since - ClockSkew) : sweepStart;
        var temps = store.RecoverCollections((sweepStart - TempFileAge).UtcDateTime);
        int removed = 0, spared = 0;
        long freed = 0;
        foreach (var blob in candidates.OrderBy(b => b.Sha256, StringComparer.Ordinal))
        {
            switch (store.Collect(blob, cutoff.UtcDateTime))
            {
                case true:
                    removed++;
                    freed += blob.Size;
                    break;
                case false:
                    spared++;
                    break;
            }
        }
        return new BlobCollection(removed, freed, spared, temps, jobs.Count(j => j.Ended), jobs.Count(j => !j.Ended));
    }

    /// <summary>Reads every job's journal through <paramref name="system"/> (one whose configuration names the journal:
    /// the node's own, or an offline one) and collects.</summary>
    public static async Task<BlobCollection> CollectAsync(ActorSystem system, DirectoryBlobStore store, CancellationToken cancellation = default)
    {
        var sweepStart = DateTimeOffset.UtcNow; // before the journal is read: a blob written after this is spared
        var jobs = await ReadJobsAsync(system, cancellation).ConfigureAwait(false);
        return Collect(store, jobs, sweepStart);
    }

    public static async Task<IReadOnlyList<JobBlobs>> ReadJobsAsync(ActorSystem system, CancellationToken cancellation = default)
    {
        var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var materializer = system.Materializer(namePrefix: "blob-gc");
        var ids = await journal.CurrentPersistenceIds().Where(id => id.StartsWith(ServerActor.PersistenceIdPrefix, StringComparison.Ordinal))
            .RunWith(Sink.Seq<string>(), materializer).WaitAsync(cancellation).ConfigureAwait(false);
        var jobs = new List<JobBlobs>();
        foreach (var id in ids.Distinct().Order(StringComparer.Ordinal))
        {
            var events = await journal.CurrentEventsByPersistenceId(id, 0, long.MaxValue)
                .RunWith(Sink.Seq<EventEnvelope>(), materializer).WaitAsync(cancellation).ConfigureAwait(false);
            jobs.Add(JobBlobs.Of(id[ServerActor.PersistenceIdPrefix.Length..], events.Select(e => e.Event).OfType<IRoundEvent>()));
        }
        return jobs;
    }

    static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}

using System.Diagnostics;
using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Simulation;

/// <summary>
/// Issue 15 item 6 (<c>fedcollm bench scale</c>): how one process and one journal hold K clients. For each K a fresh
/// simulated federation (<see cref="SimulatedCluster"/>) runs <see cref="Settings.Rounds"/> rounds with simulated compute
/// and adapters of <see cref="Settings.AdapterBytes"/>; reported are the round times, the memory of the idle client
/// silos, the journal's growth per round and the time to recover the job's state after n rounds with and without
/// snapshots.
/// </summary>
public static class ScaleBench
{
    public sealed record Settings(IReadOnlyList<int> ClientCounts, int Rounds, string Directory)
    {
        public long AdapterBytes { get; init; } = 32 * 1024;
        public SimulationJournal Journal { get; init; } = SimulationJournal.Sqlite;
        /// <summary>How long one K may run before it is reported as not finished (how far it got, and why).</summary>
        public TimeSpan TimeoutPerCount { get; init; } = TimeSpan.FromMinutes(20);
        public TimeSpan ClientCompute { get; init; } = TimeSpan.Zero;
    }

    public sealed record Row(
        int Clients, string Journal, bool Finished, string? Problem, int RoundsCommitted,
        IReadOnlyList<double> RoundSeconds, double MedianRoundSeconds, double FirstRoundSeconds, double SecondsToFirstUpdate,
        long IdleSilosHeapBytes, long IdleSilosRssBytes, double HeapBytesPerIdleClient, double RssBytesPerIdleClient, double MarginalHeapBytesPerIdleClient, long HeapBytesAfterJob, long RssBytesAfterJob,
        double JournalRowsPerRound, double JournalBytesPerRound, double JournalBytesPerUpdate, long SnapshotsTaken,
        IReadOnlyList<RecoveryTiming> RecoveryWithSnapshots, IReadOnlyList<RecoveryTiming> RecoveryWithoutSnapshots,
        bool ExactlyOnce, long JournalWrites, double JournalEventsPerWrite, double JournalWriteMeanMs, double JournalWriteSecondsPerRound, double ClientStepSecondsPerRound,
        double FetchSecondsPerRound, long BytesFetched, double WallSeconds);

    public static async Task<IReadOnlyList<Row>> RunAsync(Settings s, Action<string>? log = null)
    {
        var rows = new List<Row>();
        foreach (var k in s.ClientCounts)
        {
            var row = await RunOneAsync(s, k, log);
            rows.Add(row);
            log?.Invoke($"K = {k}: {(row.Finished ? "finished" : "NOT finished: " + row.Problem)}; median round {row.MedianRoundSeconds:F2} s, " +
                $"heap/idle client {row.HeapBytesPerIdleClient / 1024:F1} KiB, journal {row.JournalRowsPerRound:F0} rows and {row.JournalBytesPerRound / 1024:F0} KiB per round");
        }
        return rows;
    }

    static async Task<Row> RunOneAsync(Settings s, int k, Action<string>? log)
    {
        var wall = Stopwatch.StartNew();
        var sizes = SimulatedSizes.Uniform(s.AdapterBytes);
        var clients = SimulatedJob.ClientIds(k);
        var directory = Path.Combine(s.Directory, $"k{k}-{s.Journal.Name}");
        if (System.IO.Directory.Exists(directory)) System.IO.Directory.Delete(directory, recursive: true);
        using var meters = new FederationMeters();
        (long Heap, long Rss) beforeClients = default;
        await using var cluster = await SimulatedCluster.StartAsync(directory, s.Journal, clients, sizes, s.ClientCompute, TimeSpan.Zero,
            TimeSpan.FromMinutes(3), beforeClients: () => beforeClients = Memory());
        // The silos are idle until a job enrols them: give each its first directory poll, then weigh them.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var idle = Memory();
        double heapPerClient = (idle.Heap - beforeClients.Heap) / (double)k, rssPerClient = (idle.Rss - beforeClients.Rss) / (double)k;
        log?.Invoke($"K = {k}: {k} idle silos take {(idle.Heap - beforeClients.Heap) / 1048576.0:F1} MiB of GC heap, RSS {(idle.Rss - beforeClients.Rss) / 1048576.0:F1} MiB");

        var jobId = SimulatedCluster.JobId;
        var started = DateTimeOffset.UtcNow;
        string? problem = null;
        RoundState? final = null;
        try
        {
            await cluster.SubmitAsync(SimulatedJob.Spec(jobId, k, s.Rounds, sizes));
            final = await cluster.WaitForAsync(jobId, st => st.Phase.IsTerminal, s.TimeoutPerCount, $"the {k}-client job to end");
            if (final.Phase != RoundPhase.Completed) problem = $"the job ended {final.Phase}: {final.FailureReason}";
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            problem = e.Message;
        }
        var totals = meters.Read();
        var after = Memory();
        var events = await cluster.EventsAsync(jobId);
        var rounds = RoundTimeline.Of(events);
        var firstUpdate = events.Select(e => e.Event).OfType<ClientUpdateAccepted>().Select(u => (DateTimeOffset?)u.At).FirstOrDefault();
        var opened = events.Select(e => e.Event).OfType<AdaptersInitialized>().Select(a => (DateTimeOffset?)a.At).FirstOrDefault();
        var bytes = await cluster.EventBytesAsync(jobId);
        double RoundBytes(RoundTimeline r) => bytes.Where(b => b.Key >= r.FirstSequenceNr && b.Key <= r.LastSequenceNr).Sum(b => b.Value);
        var exactly = rounds.Select(r => r.ExactlyOnceProblem(clients)).OfType<string>().ToArray();
        if (exactly.Length > 0) problem ??= string.Join("; ", exactly);

        var marginal = await MarginalSiloBytesAsync(cluster);

        // Recovery after n rounds: up to the commit of round n, from its snapshot (taken at each commit) and from the events alone.
        var withSnapshots = new List<RecoveryTiming>();
        var withoutSnapshots = new List<RecoveryTiming>();
        foreach (var r in rounds)
        {
            // Interleaved, the first of each pair discarded as a warm-up of the plugin's connection and caches.
            foreach (var use in new[] { true, false })
                await Recoveries.MeasureAsync(cluster.Server.System, jobId, r.LastSequenceNr, use, TimeSpan.FromMinutes(5));
            withSnapshots.Add(await Recoveries.MeasureAsync(cluster.Server.System, jobId, r.LastSequenceNr, true, TimeSpan.FromMinutes(5)));
            withoutSnapshots.Add(await Recoveries.MeasureAsync(cluster.Server.System, jobId, r.LastSequenceNr, false, TimeSpan.FromMinutes(5)));
        }
        var roundSeconds = rounds.Select(r => r.Seconds).ToArray();
        int updates = rounds.Sum(r => r.Events.Count(e => e.Event is ClientUpdateAccepted));
        return new Row(k, s.Journal.Name, problem is null && rounds.Count == s.Rounds, problem, rounds.Count,
            roundSeconds, OverheadBench.Median(roundSeconds), roundSeconds.FirstOrDefault(),
            firstUpdate is { } f && opened is { } o ? (f - o).TotalSeconds : double.NaN,
            idle.Heap - beforeClients.Heap, idle.Rss - beforeClients.Rss, heapPerClient, rssPerClient, marginal, after.Heap, after.Rss,
            rounds.Count == 0 ? 0 : rounds.Average(r => (double)(r.LastSequenceNr - r.FirstSequenceNr + 1)),
            rounds.Count == 0 ? 0 : rounds.Average(RoundBytes),
            updates == 0 ? 0 : rounds.Sum(RoundBytes) / updates,
            await cluster.SnapshotCountAsync(jobId),
            withSnapshots, withoutSnapshots, exactly.Length == 0 && rounds.Count == s.Rounds,
            totals.JournalWrites, totals.JournalWrites == 0 ? 0 : (double)totals.JournalEvents / totals.JournalWrites,
            totals.JournalWrites == 0 ? 0 : totals.JournalSeconds / totals.JournalWrites * 1000, totals.JournalSeconds / Math.Max(1, rounds.Count),
            OverheadBench.UnionSeconds(cluster.ClientRunner.Spans) / Math.Max(1, rounds.Count), totals.FetchSeconds / Math.Max(1, rounds.Count), totals.BytesFetched,
            wall.Elapsed.TotalSeconds);
    }

    /// <summary>What one more idle client silo costs on a running client node, free of the node's fixed costs: the GC
    /// heap grown by <see cref="ExtraSilos"/> silos that enrol in no job, after their poller has asked the job directory
    /// about them once.</summary>
    static async Task<double> MarginalSiloBytesAsync(SimulatedCluster cluster)
    {
        var node = cluster.Clients.Node;
        var system = cluster.Clients.System;
        var before = Memory();
        var silos = Enumerable.Range(0, ExtraSilos).ToDictionary(i => $"idle-{i:D5}",
            i => system.ActorOf(Client.ClientSilo.Props($"idle-{i:D5}", "", node.Servers, node.Services), $"idle-silo-{i:D5}"));
        var poller = system.ActorOf(Client.SiloDirectoryPoller.Props(node.Directory, silos, node.Services.Timeouts.DirectoryPoll), "idle-silo-poller");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var after = Memory();
        system.Stop(poller);
        foreach (var silo in silos.Values) system.Stop(silo);
        return (after.Heap - before.Heap) / (double)ExtraSilos;
    }

    const int ExtraSilos = 1000;

    /// <summary>The GC heap after a full, compacting collection, and the process's resident set.</summary>
    static (long Heap, long Rss) Memory()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var process = Process.GetCurrentProcess();
        return (GC.GetTotalMemory(false), process.WorkingSet64);
    }
}

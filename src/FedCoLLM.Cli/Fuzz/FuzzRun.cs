namespace FedCoLLM.Cli.Fuzz;

public enum FuzzTarget { Remoting, Http }

public sealed record FuzzOptions(FuzzTarget Target, int Seed, TimeSpan Duration, int MaxCases, string OutDir);

/// <summary>One fuzz run's result: what was sent, how the port reacted, what the node logged, and whether the node and
/// the cluster came through unchanged (<see cref="Problem"/> is null then).</summary>
public sealed record FuzzReport(FuzzOptions Options, FuzzTally Tally, int CorpusFrames, int Warnings, int Errors, IReadOnlyList<string> LogSamples, string? Problem)
{
    /// <summary>The process's working set before the first case and after the last (MiB): hostile input must not pile up.</summary>
    public (double Before, double After) WorkingSetMiB { get; init; }

    public bool Survived => Problem is null;

    public IEnumerable<string> Lines()
    {
        var o = Options;
        yield return $"fuzz {o.Target.ToString().ToLowerInvariant()} seed {o.Seed}: {Tally.Cases} cases in {Tally.Elapsed.TotalSeconds:F1} s" +
                     (o.Target == FuzzTarget.Remoting ? $" (corpus: {CorpusFrames} real frames captured)" : "");
        yield return "  kinds: " + string.Join(", ", Tally.ByKind.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value}"));
        yield return $"  port: closed by the node {Tally.ClosedByPeer}, answered {Tally.Answered}, left open {Tally.LeftOpen}, connection refused {Tally.Refused}";
        if (Tally.Statuses.Count > 0) yield return "  HTTP statuses: " + string.Join(", ", Tally.Statuses.Select(s => $"{s.Key} ×{s.Value}"));
        yield return $"  node logged {Warnings} warnings and {Errors} errors; working set {WorkingSetMiB.Before:F0} MiB before, {WorkingSetMiB.After:F0} MiB after";
        foreach (var sample in LogSamples) yield return "    " + (sample.Length > 200 ? sample[..200] + "…" : sample);
        yield return Survived
            ? "  result: the node survived and the cluster is unchanged (2 members Up, none unreachable, peer → node message answered" + (o.Target == FuzzTarget.Http ? ", /healthz/live and /api/jobs 200)" : ")")
            : $"  result: FAILED: {Problem}";
    }
}

/// <summary>Starts the target cluster, (remoting) captures real frames, fuzzes, and checks the node and the cluster.</summary>
public static class FuzzRun
{
    public static async Task<FuzzReport> RunAsync(FuzzOptions o, CancellationToken cancellation)
    {
        var timeout = TimeSpan.FromSeconds(30);
        await using var cluster = await FuzzCluster.StartAsync(o.OutDir, o.Target == FuzzTarget.Http, timeout);
        await cluster.WaitHealthyAsync(timeout);
        FuzzTally tally;
        int corpus = 0;
        static double WorkingSet() { using var self = System.Diagnostics.Process.GetCurrentProcess(); return self.WorkingSet64 / 1048576.0; }
        double before = WorkingSet();
        if (o.Target == FuzzTarget.Remoting)
        {
            var capture = await FrameCapture.CaptureAsync(cluster.VisitorConfig, cluster.RemotingPort, TimeSpan.FromSeconds(2));
            corpus = capture.Frames.Count;
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellation); // the capture's own association logs
            cluster.Logs.Reset();
            tally = await RemotingFuzzer.RunAsync(cluster.RemotingPort, new FrameMutator(o.Seed, capture.Frames, capture.BigEndian), o.MaxCases, o.Duration, cancellation);
        }
        else
        {
            cluster.Logs.Reset();
            tally = await new HttpFuzzer(o.Seed).RunAsync(cluster.HttpPort, o.MaxCases, o.Duration, cancellation);
        }
        // Let failure detection and gossip run a few rounds: an effect on the cluster shows after the last frame.
        await Task.Delay(TimeSpan.FromSeconds(2), cancellation);
        var problem = await cluster.ProblemAsync(timeout);
        if (problem is null && o.Target == FuzzTarget.Http && tally.ServerErrors > 0)
            problem = $"{tally.ServerErrors} requests were answered 500 (a handler threw on hostile input)";
        return new FuzzReport(o, tally, corpus, cluster.Logs.Warnings, cluster.Logs.Errors, cluster.Logs.Samples, problem) { WorkingSetMiB = (before, WorkingSet()) };
    }
}

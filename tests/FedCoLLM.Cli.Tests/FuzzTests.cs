using System.Diagnostics;
using FedCoLLM.Cli.Fuzz;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// The bounded fuzz runs of CI (the long ones are `fedcollm fuzz --seconds N`, docs/hostile-input.md): a few hundred hostile
/// frames at a real node's remoting port and a few hundred garbage requests at its HTTP port, over real sockets, with a
/// second cluster member watching. The node must survive, log, and leave the cluster as it was.
/// </summary>
[Collection(ChildProcesses.Name)]
public sealed class FuzzTests
{
    /// <summary>A safety limit only: 300 cases take ~3 s (remoting) and ~8 s (HTTP) here; a loaded CI machine gets room.</summary>
    static readonly TimeSpan Budget = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Random_and_mutated_remoting_frames_leave_the_node_and_the_cluster_unaffected()
    {
        using var dir = new TempDir();
        var clock = Stopwatch.StartNew();
        var report = await FuzzRun.RunAsync(new FuzzOptions(FuzzTarget.Remoting, Seed: 7, Budget, MaxCases: 300, dir.Path), CancellationToken.None);

        var text = string.Join("\n", report.Lines());
        Assert.True(report.Survived, text);
        Assert.Equal(300, report.Tally.Cases);
        Assert.True(report.CorpusFrames > 0, "no real frame was captured to mutate: " + text);
        Assert.All(FrameMutator.Kinds, kind => Assert.True(report.Tally.ByKind.GetValueOrDefault(kind) > 0, $"no {kind} case: {text}"));
        Assert.True(report.Errors + report.Warnings > 0, "the node logged nothing about 300 hostile frames: " + text);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Garbage_HTTP_requests_are_answered_or_dropped_never_500_and_the_node_keeps_serving()
    {
        using var dir = new TempDir();
        var report = await FuzzRun.RunAsync(new FuzzOptions(FuzzTarget.Http, Seed: 7, Budget, MaxCases: 300, dir.Path), CancellationToken.None);

        var text = string.Join("\n", report.Lines());
        Assert.True(report.Survived, text);
        Assert.Equal(300, report.Tally.Cases);
        Assert.Equal(0, report.Tally.ServerErrors);
        Assert.True(report.Tally.Statuses.Keys.Any(s => s is >= 400 and < 500), "no request was refused as bad: " + text);
        Assert.True(report.Warnings > 0, "the node logged nothing about the malformed requests it refused: " + text);
    }

    [Fact]
    public void The_same_seed_sends_the_same_cases()
    {
        byte[][] frames = [[0, 0, 0, 3, 1, 2, 3], [0, 0, 0, 1, 9]];
        var a = new FrameMutator(5, frames, bigEndian: true);
        var b = new FrameMutator(5, frames, bigEndian: true);
        for (int i = 0; i < 200; i++)
        {
            var (ka, xa) = a.Next();
            var (kb, xb) = b.Next();
            Assert.Equal(ka, kb);
            Assert.Equal(xa, xb);
        }
        var h1 = new HttpFuzzer(5);
        var h2 = new HttpFuzzer(5);
        for (int i = 0; i < 200; i++) Assert.Equal(h1.Next().Bytes, h2.Next().Bytes);
    }

    [Fact]
    public void A_recorded_stream_splits_at_its_length_prefixes_in_either_byte_order()
    {
        var big = FrameCapture.Split([0, 0, 0, 2, 7, 7, 0, 0, 0, 1, 9, 0, 0]);
        Assert.True(big.BigEndian);
        Assert.Equal(2, big.Frames.Count);
        var little = FrameCapture.Split([2, 0, 0, 0, 7, 7, 1, 0, 0, 0, 9]);
        Assert.False(little.BigEndian);
        Assert.Equal(2, little.Frames.Count);
    }
}

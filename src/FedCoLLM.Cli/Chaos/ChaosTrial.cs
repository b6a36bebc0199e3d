using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Cli.Federation;

namespace FedCoLLM.Cli.Chaos;

/// <summary>What one trial did and found.</summary>
public sealed record TrialResult(
    int Trial, ChaosFault Fault, string? Victim, string? KilledDuring, bool Completed, bool Identical,
    IReadOnlyList<string> JournalProblems, double? KillToProgressSeconds, double WallSeconds, string? Error, FailoverBreakdown? Breakdown = null)
{
    public bool Killed => Victim is not null;
    public bool Passed => Completed && Identical && JournalProblems.Count == 0 && Error is null;
}

/// <summary>What every trial shares: the job file, where the clients' data lies, the enrolled clients, the reference hashes.</summary>
public sealed record TrialContext(
    string Directory, TrialSite Site, string JobFile, string DataDir, IReadOnlyList<string> ClientIds, int Rounds,
    (string Slm, string Llm) Reference, TimeSpan RestartAfter, TimeSpan Timeout, bool KeepDatabases, bool SecureAggregation = false);

/// <summary>
/// One chaos trial: a fresh database, the cluster started, one node SIGKILLed at the moment <see cref="ChaosFault"/>
/// picks and restarted, then the checks — the job completes, its final adapters are bit-identical to the undisturbed
/// reference, and the journal accepted each client update exactly once per round.
/// </summary>
public static partial class ChaosTrial
{
    static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public static async Task<TrialResult> Run(int trial, ChaosFault fault, TrialContext context, CancellationToken cancellation)
    {
        var wall = Stopwatch.StartNew();
        var directory = Path.Combine(context.Directory, $"trial-{trial:D3}");
        if (System.IO.Directory.Exists(directory)) System.IO.Directory.Delete(directory, recursive: true);
        using var database = ChaosDatabase.Create(context.Site.Admin, $"fedcollm_chaos_{trial:D3}_{Guid.NewGuid().ToString("N")[..8]}");
        var cluster = new ChaosCluster(context.Site.Layout(directory, context.Site.ForNodes(database.Name), context.JobFile, context.DataDir, context.ClientIds));
        string? victim = null, during = null;
        double? recovery = null;
        NodeProcess? killed = null;
        var killedAtUtc = DateTime.MinValue;
        var checks = new TrialChecks(context.Timeout, context.Reference, database.ConnectionString, context.ClientIds, context.Rounds, context.SecureAggregation);
        var verdict = await TrialRun.Run(cluster, Path.Combine(directory, "logs"), checks, async deadline =>
        {
            if (await Trigger(cluster, fault, deadline) is not { } t) return;
            victim = t.Victim;
            var dying = cluster[t.Victim];
            var before = await JournalAudit.LatestTransition(database.ConnectionString, deadline);
            var phase = FollowerPhase(cluster);
            var killedAt = Stopwatch.StartNew();
            (killed, killedAtUtc) = (dying, DateTime.UtcNow);
            cluster.Kill(t.Victim);
            var progress = WaitForProgress(database.ConnectionString, before, killedAt, deadline);
            await Task.Delay(context.RestartAfter, deadline);
            // From the dead incarnation's last lines (all read by now), not a snapshot before the kill: a step may end
            // in the milliseconds between the two.
            during = Describe(dying, phase, fault);
            cluster.Restart(t.Victim);
            recovery = await progress;
        }, cancellation);
        var error = verdict.Passed ? null : (verdict.Error is null ? "" : verdict.Error + "; ") + $"journal kept in database {database.Name}, logs in {directory}";
        // Every kind gets the breakdown; it is the job host's failover that it explains (the bench reads it).
        var breakdown = killed is null ? null : FailoverBreakdown.Read(cluster, killed, killedAtUtc, recovery);
        var result = new TrialResult(trial, fault, victim, during, verdict.Completed, verdict.Identical, verdict.JournalProblems, recovery, wall.Elapsed.TotalSeconds, error, breakdown);
        database.KeepOnDispose = context.KeepDatabases || !result.Passed;
        return result;
    }

    sealed record Target(string Victim);

    /// <summary>Waits for the fault's moment and names the node to kill; null when the job finished first.</summary>
    static async Task<Target?> Trigger(ChaosCluster cluster, ChaosFault fault, CancellationToken cancellation)
    {
        var follower = cluster[ChaosCluster.Follower];
        var start = DateTime.UtcNow;
        while (!cancellation.IsCancellationRequested)
        {
            if (follower.HasExited) return null;
            var candidate = fault.Kind switch
            {
                FaultKind.JobHost => Reached(follower, fault.Round, fault.Phase) is not null ? cluster.JobHost() : null,
                FaultKind.Aggregator => cluster.Running.Any(n => n.First($"{NodeTrace.StepStarted} round {fault.Round} Aggregating", start) is not null)
                    ? cluster.Aggregator : null,
                FaultKind.ClientTraining => cluster[cluster.ClientNodes[fault.ClientIndex]].First($"{NodeTrace.StepStarted} round {fault.Round} ClientsTraining", start) is not null
                    ? cluster.ClientNodes[fault.ClientIndex] : null,
                FaultKind.ClientSecAgg => SecAggStepStarted(cluster[cluster.ClientNodes[fault.ClientIndex]], fault, start)
                    ? cluster.ClientNodes[fault.ClientIndex] : null,
                _ => TransferEnd(cluster, fault, Reached(follower, fault.Round, fault.Phase)),
            };
            if (candidate is not null)
            {
                await Task.Delay(fault.Delay, cancellation);
                // The job host may have changed hands during the delay.
                return new Target(fault.Kind == FaultKind.JobHost ? cluster.JobHost() ?? candidate : candidate);
            }
            await Task.Delay(Poll, cancellation);
        }
        return null;
    }

    /// <summary>Whether the client began the fault's secure-aggregation step in the fault's round (NodeTrace names the
    /// operation of a protocol step: "step started: round 1 ClientsTraining noun.plant secagg-share attempt 1 · …").</summary>
    static bool SecAggStepStarted(NodeProcess client, ChaosFault fault, DateTime since)
    {
        var round = $"{NodeTrace.StepStarted} round {fault.Round} ";
        var step = $" {SecAggOperations.ClientSteps[fault.SecAggStep]} attempt ";
        return client.Lines.Any(l => l.At > since && l.Text.Contains(round, StringComparison.Ordinal) && l.Text.Contains(step, StringComparison.Ordinal));
    }

    /// <summary>The sender or receiver of the first adapter transfer that began once the round reached the phase.</summary>
    static string? TransferEnd(ChaosCluster cluster, ChaosFault fault, DateTime? from)
    {
        if (from is not { } since) return null;
        var serving = cluster.Running.Where(n => n.Name != ChaosCluster.Follower)
            .Select(n => (Node: n.Name, Line: n.First(NodeTrace.Serving, since - TimeSpan.FromSeconds(1))))
            .Where(x => x.Line is not null).OrderBy(x => x.Line!.At).FirstOrDefault();
        if (serving.Line is null) return null;
        var receiver = cluster.NodeAt(serving.Line.Text[(serving.Line.Text.LastIndexOf(" to ", StringComparison.Ordinal) + 4)..].Trim());
        return fault.KillSender || receiver is null or ChaosCluster.Follower ? serving.Node : receiver;
    }

    /// <summary>When the follower first printed a phase at or after (round, phase) — it polls, so short phases may be
    /// skipped in its output; a later phase counts as reached.</summary>
    static DateTime? Reached(NodeProcess follower, int round, RoundPhase phase)
    {
        var target = Array.IndexOf(ChaosFault.RoundPhases, phase);
        foreach (var line in follower.Lines)
        {
            var m = PhaseLine().Match(line.Text);
            if (!m.Success) continue;
            var r = int.Parse(m.Groups[1].Value);
            var name = m.Groups[2].Value;
            if (name == nameof(RoundPhase.Completed)) return line.At;
            var i = Array.IndexOf(ChaosFault.RoundPhases, new RoundPhase(name));
            if (i < 0) continue;
            if (r > round || (r == round && i >= target)) return line.At;
        }
        return null;
    }

    [GeneratedRegex(@"round (\d+)/\d+ attempt \d+ · (\w+)")]
    private static partial Regex PhaseLine();

    /// <summary>The follower's latest phase line ("round 2/2 attempt 1 · ClientsTraining"), or null before the first round.</summary>
    static string? FollowerPhase(ChaosCluster cluster) =>
        cluster[ChaosCluster.Follower].Lines.LastOrDefault(l => PhaseLine().IsMatch(l.Text)) is { } line ? PhaseLine().Match(line.Text).Value : null;

    /// <summary>What the victim was doing when it died, from its last lines and the follower's phase at the kill.</summary>
    static string Describe(NodeProcess victim, string? phase, ChaosFault fault)
    {
        var lines = victim.Lines;
        var started = lines.LastOrDefault(l => l.Text.Contains(NodeTrace.StepStarted));
        var finished = lines.LastOrDefault(l => l.Text.Contains(NodeTrace.StepFinished));
        var inStep = started is not null && (finished is null || finished.At < started.At);
        var where = phase ?? "before the first round";
        if (inStep) return $"{where}, mid-step ({After(started!.Text, NodeTrace.StepStarted)})";
        // A protocol step other than masking lasts milliseconds: the kill usually comes just after its submission.
        return fault.Kind == FaultKind.ClientSecAgg && finished is not null ? $"{where}, just after step ({After(finished.Text, NodeTrace.StepFinished)})" : where;
    }

    static string After(string line, string marker) => line[(line.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..].Trim();

    /// <summary>Seconds from the kill until the job persists its next phase transition.</summary>
    static async Task<double?> WaitForProgress(string connectionString, long before, Stopwatch sinceKill, CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            try
            {
                if (await JournalAudit.LatestTransition(connectionString, cancellation) > before) return sinceKill.Elapsed.TotalSeconds;
                await Task.Delay(100, cancellation);
            }
            catch (OperationCanceledException) { return null; }
        }
        return null;
    }

    public static (string Slm, string Llm) FinalHashes(string outDir)
    {
        var final = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")))!["final"]!;
        return (final["slm_adapter_sha256"]!.GetValue<string>(), final["llm_adapter_sha256"]!.GetValue<string>());
    }
}

using System.Text.Json.Nodes;
using FedCoLLM.Cli.Federation;

namespace FedCoLLM.Cli.Chaos;

/// <summary>
/// Where the seconds of one job-host failover went, read from the survivors' trace lines (NodeTrace: membership and
/// job-entity lines, step lines), each timed when the harness read it, as seconds after the SIGKILL:
/// <list type="bullet">
/// <item><b>detect</b>: the first survivor saw the victim unreachable (or downed, when the leader downed the old
/// incarnation at its replacement's Join before the failure detector fired);</item>
/// <item><b>down</b>: the victim was downed (split-brain resolver, or replaced by its restarted incarnation);</item>
/// <item><b>hand-off</b>: the job entity started on its new host (member removal, shard coordinator, allocation);</item>
/// <item><b>replay</b>: the entity finished replaying its journal;</item>
/// <item><b>step</b>: from then until the job persisted its next phase transition (re-dispatching the interrupted
/// step, which resumes from its last checkpoint where it keeps one: Workers/StepCheckpoints.cs).</item>
/// </list>
/// A stage the logs do not show (e.g. no unreachable line because the downing came first) is null.
/// </summary>
public sealed record FailoverBreakdown(double? Unreachable, double? Downed, double? Removed, double? EntityStarted, double? EntityRecovered,
    double? StepRestarted, double? Transition, string? RecoveredAt)
{
    public double? Detect => Min(Unreachable, Downed);
    public double? Down => Downed - Detect;
    public double? Handoff => EntityStarted - Downed;
    public double? Replay => EntityRecovered - EntityStarted;
    public double? Step => Transition - EntityRecovered;

    /// <summary>The next transition came after the job's entity started on a survivor. False when the killed
    /// incarnation's own last write landed after the SIGKILL (the step had just finished): no failover was timed.</summary>
    public bool FailedOver => Transition is { } transition && EntityStarted is { } started && transition >= started;

    static double? Min(double? a, double? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    /// <summary>Reads the stages from every incarnation's lines but the one killed.</summary>
    public static FailoverBreakdown Read(ChaosCluster cluster, NodeProcess killed, DateTime killedAt, double? transitionSeconds) =>
        From(cluster.Layout.Nodes.Append(ChaosCluster.Follower).Distinct()
            .SelectMany(cluster.Incarnations).Where(p => !ReferenceEquals(p, killed)).SelectMany(p => p.Lines), killedAt, transitionSeconds);

    /// <summary>The stages from the survivors' lines (any order; those before the kill are ignored).</summary>
    public static FailoverBreakdown From(IEnumerable<OutputLine> survivorLines, DateTime killedAt, double? transitionSeconds)
    {
        var lines = survivorLines.Where(l => l.At > killedAt).OrderBy(l => l.At).ToArray();
        double? First(string marker, DateTime? after = null) =>
            lines.FirstOrDefault(l => (after is null || l.At >= after) && l.Text.Contains(marker, StringComparison.Ordinal)) is { } line
                ? (line.At - killedAt).TotalSeconds : null;
        var recovered = lines.FirstOrDefault(l => l.Text.Contains(NodeTrace.EntityRecovered, StringComparison.Ordinal));
        var recoveredText = recovered?.Text[(recovered.Text.IndexOf(NodeTrace.EntityRecovered, StringComparison.Ordinal) + NodeTrace.EntityRecovered.Length)..].Trim();
        return new FailoverBreakdown(First(NodeTrace.Unreachable), First(NodeTrace.Downed), First(NodeTrace.Removed), First(NodeTrace.EntityStarted),
            recovered is null ? null : (recovered.At - killedAt).TotalSeconds,
            recovered is null ? null : First(NodeTrace.StepStarted, recovered.At), transitionSeconds, recoveredText);
    }

    public JsonObject ToJson() => new()
    {
        ["detect_s"] = Detect, ["down_s"] = Down, ["handoff_s"] = Handoff, ["replay_s"] = Replay, ["step_s"] = Step,
        ["at"] = new JsonObject
        {
            ["unreachable_s"] = Unreachable, ["downed_s"] = Downed, ["removed_s"] = Removed, ["entity_started_s"] = EntityStarted,
            ["entity_recovered_s"] = EntityRecovered, ["step_restarted_s"] = StepRestarted, ["transition_s"] = Transition,
        },
        ["recovered"] = RecoveredAt,
    };
}

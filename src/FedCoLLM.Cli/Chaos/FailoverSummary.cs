using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Configuration;
using FedCoLLM.Actors.Hosting;

namespace FedCoLLM.Cli.Chaos;

/// <summary>
/// <c>fedcollm bench failover</c>'s figures from a job-host chaos run: kill → next persisted phase transition (median,
/// p90, max against the 15 s goal) and, per stage of <see cref="FailoverBreakdown"/>, the median — the profile that says
/// where the seconds go — with the cluster settings that shape them and the machine's load.
/// </summary>
public static class FailoverSummary
{
    public const double GoalSeconds = 15;

    /// <summary>The settings a failover's stages depend on, as the nodes load them (hocon/cluster.conf, sharding.conf).</summary>
    static readonly string[] SettingKeys =
    [
        "akka.cluster.failure-detector.acceptable-heartbeat-pause", "akka.cluster.failure-detector.heartbeat-interval",
        "akka.cluster.split-brain-resolver.stable-after", "akka.cluster.down-removal-margin",
        "akka.cluster.retry-unsuccessful-join-after", "akka.cluster.sharding.retry-interval",
        "akka.cluster.sharding.coordinator-failure-backoff", "akka.cluster.sharding.waiting-for-state-timeout",
        "akka.cluster.sharding.updating-state-timeout", "akka.cluster.sharding.entity-restart-backoff",
        "akka.cluster.sharding.remember-entities-store", "akka.cluster.sharding.state-store-mode",
    ];

    public static JsonObject Build(ChaosCommand.RunOutcome run, string command, string loadBefore, string loadAfter)
    {
        var trials = run.Trials;
        // A trial whose next transition the killed node wrote itself (it landed just after the SIGKILL) timed no
        // failover; it is listed, but left out of the figures rather than counted as a sub-second failover.
        var measured = trials.Where(t => t.KillToProgressSeconds is not null && t.Breakdown is { FailedOver: true })
            .Select(t => t.KillToProgressSeconds!.Value).Order().ToArray();
        var notFailovers = trials.Count(t => t.KillToProgressSeconds is not null && t.Breakdown is not { FailedOver: true });
        double? Q(double q) => measured.Length == 0 ? null : ChaosReport.Quantile(measured, q);
        var median = Q(0.5);
        var stages = new JsonObject();
        foreach (var (name, pick) in Stages)
        {
            var xs = trials.Select(t => t.Breakdown is { FailedOver: true } b ? pick(b) : null).Where(x => x is not null).Select(x => x!.Value).Order().ToArray();
            stages[name] = xs.Length == 0 ? null : new JsonObject
            {
                ["median_s"] = ChaosReport.Quantile(xs, 0.5), ["p90_s"] = ChaosReport.Quantile(xs, 0.9), ["max_s"] = xs[^1], ["n"] = xs.Length,
            };
        }
        // Only read for the settings in force; the lab's nodes got their database from the lab, so this process may have none.
        var config = FederationConfig.Load(Federation.NodeCommand.DefaultConfigFiles, $"{NodeEnvironment.Postgres} = \"not used: settings read for the report\"");
        var settings = new JsonObject();
        foreach (var key in SettingKeys) settings[key] = config.HasPath(key) ? config.GetString(key) : null;
        return new JsonObject
        {
            ["command"] = command,
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}",
            ["load_average_before"] = loadBefore,
            ["load_average_after"] = loadAfter,
            ["trials"] = trials.Count,
            ["passed"] = trials.Count(t => t.Passed),
            ["measured"] = measured.Length,
            ["transition_before_failover"] = notFailovers,
            ["failover_median_s"] = median,
            ["failover_p90_s"] = Q(0.9),
            ["failover_max_s"] = measured.Length == 0 ? null : measured[^1],
            ["failover_min_s"] = measured.Length == 0 ? null : measured[0],
            ["goal_s"] = GoalSeconds,
            ["goal_met"] = median < GoalSeconds && measured.Length >= 30,
            ["stages_median"] = stages,
            ["settings"] = settings,
            ["wall_seconds"] = run.Wall.TotalSeconds,
            ["per_trial"] = new JsonArray(trials.Select(t => (JsonNode)new JsonObject
            {
                ["trial"] = t.Trial,
                ["fault"] = t.Fault.ToString(),
                ["victim"] = t.Victim,
                ["killed_during"] = t.KilledDuring,
                ["passed"] = t.Passed,
                ["failover_s"] = t.KillToProgressSeconds,
                ["failed_over"] = t.Breakdown?.FailedOver ?? false,
                ["breakdown"] = t.Breakdown?.ToJson(),
                ["error"] = t.Error,
            }).ToArray()),
        };
    }

    /// <summary>The stages, in order, and how each is read from a trial's breakdown.</summary>
    public static readonly (string Name, Func<FailoverBreakdown, double?> Pick)[] Stages =
    [
        ("detect", b => b.Detect), ("down", b => b.Down), ("handoff", b => b.Handoff), ("replay", b => b.Replay), ("step", b => b.Step),
    ];

    /// <summary>The lines printed at the end: the figures and the stage medians.</summary>
    public static string Text(JsonObject summary)
    {
        string F(JsonNode? n) => n is null ? "—" : n.GetValue<double>().ToString("F1", CultureInfo.InvariantCulture);
        var stages = (JsonObject)summary["stages_median"]!;
        var before = summary["transition_before_failover"]!.GetValue<int>();
        return (before > 0 ? $"{before} trial(s) left out: the killed node's own last transition landed after the kill, so no failover was timed\n" : "") +
               $"failover (kill → next persisted transition, n = {summary["measured"]}): median {F(summary["failover_median_s"])} s, " +
               $"p90 {F(summary["failover_p90_s"])} s, max {F(summary["failover_max_s"])} s (goal: median < {GoalSeconds:F0} s; {summary["passed"]}/{summary["trials"]} trials passed)\n" +
               "stage medians (s): " + string.Join(", ", Stages.Select(s => $"{s.Name} {F(stages[s.Name]?["median_s"])}"));
    }

    public static void Write(string path, JsonObject summary)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>/proc/loadavg's three averages (the machine is shared: every figure notes the load it ran under).</summary>
    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}

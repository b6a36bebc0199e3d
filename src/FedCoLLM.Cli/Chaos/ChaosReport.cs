using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FedCoLLM.Cli.Chaos;

/// <summary>The chaos run's summary line, its distribution of recovery times, and chaos.md / chaos.json.</summary>
public static class ChaosReport
{
    public static string Summary(IReadOnlyList<TrialResult> trials)
    {
        var kinds = string.Join(", ", Enum.GetValues<FaultKind>().Where(k => trials.Any(t => t.Fault.Kind == k)).Select(k => $"{Name(k)} {trials.Count(t => t.Killed && t.Fault.Kind == k)}"));
        return $"trials: {trials.Count}, completed: {trials.Count(t => t.Completed)}, identical: {trials.Count(t => t.Identical)}, " +
               $"exactly-once: {trials.Count(t => t.Completed && t.JournalProblems.Count == 0)}, kills: {trials.Count(t => t.Killed)} ({kinds}), " +
               $"passed: {trials.Count(t => t.Passed)}";
    }

    public static string Recovery(IReadOnlyList<TrialResult> trials)
    {
        var seconds = trials.Where(t => t.KillToProgressSeconds is not null).Select(t => t.KillToProgressSeconds!.Value).Order().ToArray();
        if (seconds.Length == 0) return "kill → next phase transition: no kills measured";
        return $"kill → next phase transition (s): min {seconds[0]:F1}, median {Quantile(seconds, 0.5):F1}, p90 {Quantile(seconds, 0.9):F1}, max {seconds[^1]:F1} (n = {seconds.Length})";
    }

    public static double Quantile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var low = (int)Math.Floor(position);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
    }

    public static string Name(FaultKind kind) => kind switch
    {
        FaultKind.JobHost => "job-host",
        FaultKind.Aggregator => "aggregator",
        FaultKind.ClientTraining => "client-training",
        FaultKind.ClientSecAgg => "client-secagg",
        _ => "transfer",
    };

    public static void Write(string directory, string command, IReadOnlyList<TrialResult> trials, (string Slm, string Llm) reference, TimeSpan wall)
    {
        var md = new StringBuilder();
        md
            .AppendLine("# Chaos run").AppendLine()
            .AppendLine($"`{command}` — {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, wall {wall.TotalMinutes:F1} min.").AppendLine()
            .AppendLine($"Reference (undisturbed run, same plan and seed): SLM `{reference.Slm}`, LLM `{reference.Llm}`.").AppendLine()
            .AppendLine("```").AppendLine(Summary(trials)).AppendLine(Recovery(trials)).AppendLine("```").AppendLine()
            .AppendLine("Kill → next phase transition the job persists, per fault kind (seconds; the phase the kill interrupted is")
            .AppendLine("re-run, so this includes that phase's own duration):").AppendLine()
            .AppendLine("| fault | kills | min | median | p90 | max |").AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var kind in Enum.GetValues<FaultKind>())
        {
            var seconds = trials.Where(t => t.Fault.Kind == kind && t.KillToProgressSeconds is not null).Select(t => t.KillToProgressSeconds!.Value).Order().ToArray();
            if (seconds.Length == 0) continue;
            md.AppendLine(CultureInfo.InvariantCulture, $"| {Name(kind)} | {seconds.Length} | {seconds[0]:F1} | {Quantile(seconds, 0.5):F1} | {Quantile(seconds, 0.9):F1} | {seconds[^1]:F1} |");
        }
        md.AppendLine()
            .AppendLine("| trial | fault | killed | while | completed | identical | exactly once | kill → next transition (s) | wall (s) |")
            .AppendLine("|---:|---|---|---|---|---|---|---:|---:|");
        foreach (var t in trials)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {t.Trial} | {t.Fault} | {t.Victim ?? "— (job ended first)"} | {t.KilledDuring ?? ""} | {Mark(t.Completed)} | {Mark(t.Identical)} | " +
                          $"{Mark(t.Completed && t.JournalProblems.Count == 0)} | {t.KillToProgressSeconds?.ToString("F1", CultureInfo.InvariantCulture) ?? ""} | {t.WallSeconds:F0} |");
        var failures = trials.Where(t => !t.Passed).ToArray();
        if (failures.Length > 0)
        {
            md.AppendLine().AppendLine("## Failures").AppendLine();
            foreach (var t in failures)
                md.AppendLine($"- trial {t.Trial}: {string.Join("; ", t.JournalProblems.Append(t.Error ?? (t.Identical ? "" : "final adapters differ from the reference")).Where(s => s.Length > 0))}");
        }
        File.WriteAllText(Path.Combine(directory, "chaos.md"), md.ToString());

        var json = new JsonObject
        {
            ["command"] = command,
            ["reference"] = new JsonObject { ["slm_adapter_sha256"] = reference.Slm, ["llm_adapter_sha256"] = reference.Llm },
            ["summary"] = Summary(trials),
            ["recovery"] = Recovery(trials),
            ["wall_seconds"] = wall.TotalSeconds,
            ["trials"] = new JsonArray(trials.Select(t => (JsonNode)new JsonObject
            {
                ["trial"] = t.Trial,
                ["kind"] = Name(t.Fault.Kind),
                ["fault"] = t.Fault.ToString(),
                ["victim"] = t.Victim,
                ["killed_during"] = t.KilledDuring,
                ["completed"] = t.Completed,
                ["identical"] = t.Identical,
                ["journal_problems"] = new JsonArray(t.JournalProblems.Select(p => (JsonNode)JsonValue.Create(p)!).ToArray()),
                ["kill_to_progress_seconds"] = t.KillToProgressSeconds,
                ["wall_seconds"] = t.WallSeconds,
                ["error"] = t.Error,
                ["breakdown"] = t.Breakdown?.ToJson(),
            }).ToArray()),
        };
        File.WriteAllText(Path.Combine(directory, "chaos.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    static string Mark(bool ok) => ok ? "yes" : "**no**";
}

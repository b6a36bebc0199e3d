using System.Text;
using System.Text.Json;

namespace FedCoLLM.Cli.Lab;

/// <summary>lab.md and lab.json: per scenario what was done and found, and the same-address rejoin times.</summary>
public static class LabReport
{
    public static string Line(LabResult r) =>
        $"{r.Fault ?? "no fault"}; completed {r.Completed}, identical {r.Identical}, exactly once {r.JournalProblems.Count == 0}" +
        (r.Rejoins.Count > 0 ? $", rejoined {r.Rejoins.Count(j => j.Rejoined)}/{r.Rejoins.Count} ({Rejoin(r.Rejoins)})" : "") +
        (r.SupervisorRestarts.Count > 0 ? $", {r.SupervisorRestarts.Count} supervisor restart(s)" : "") +
        $", {r.WallSeconds:F0} s" +
        (r.Passed ? "" : $"\n           FAILED: {string.Join("; ", r.JournalProblems.Append(r.Error ?? "").Where(p => p.Length > 0))}");

    /// <summary>"median M s, max X s" over the rejoins that succeeded.</summary>
    public static string Rejoin(IReadOnlyList<Rejoin> rejoins)
    {
        var times = rejoins.Where(r => r.Rejoined).Select(r => r.Seconds).Order().ToArray();
        var islands = rejoins.Where(r => r.Island is not null).Select(r => $"{r.Node} came Up in a cluster of its own ({r.Island} members)").ToArray();
        var split = islands.Length > 0 ? "; " + string.Join("; ", islands) : "";
        if (times.Length == 0) return "none rejoined" + split;
        var median = times.Length % 2 == 1 ? times[times.Length / 2] : (times[times.Length / 2 - 1] + times[times.Length / 2]) / 2;
        return $"rejoin median {median:F1} s, max {times[^1]:F1} s" + split;
    }

    public static string Summary(IReadOnlyList<LabResult> results) =>
        $"{results.Count(r => r.Passed)}/{results.Count} scenarios passed.";

    public static void Write(string directory, string command, IReadOnlyList<LabResult> results, (string Slm, string Llm) reference, TimeSpan wall)
    {
        var md = new StringBuilder();
        md.AppendLine("# Lab run").AppendLine();
        md.AppendLine($"`{command}` on {Environment.MachineName}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {wall.TotalMinutes:F1} min. " +
                      $"Reference adapters: SLM `{reference.Slm[..16]}…`, LLM `{reference.Llm[..16]}…`.").AppendLine();
        md.AppendLine("| scenario | fault | completed | identical | exactly once | rejoins | supervisor restarts | wall (s) |");
        md.AppendLine("|---|---|---|---|---|---|---:|---:|");
        foreach (var r in results)
            md.AppendLine($"| {LabTrial.Name(r.Scenario)} | {r.Fault ?? "none"} | {r.Completed} | {r.Identical} | {r.JournalProblems.Count == 0} | " +
                          $"{(r.Rejoins.Count == 0 ? "—" : $"{r.Rejoins.Count(j => j.Rejoined)}/{r.Rejoins.Count}, {Rejoin(r.Rejoins)}")} | {r.SupervisorRestarts.Count} | {r.WallSeconds:F0} |");
        foreach (var r in results.Where(r => !r.Passed))
            md.AppendLine().AppendLine($"**{LabTrial.Name(r.Scenario)} failed:** {string.Join("; ", r.JournalProblems.Append(r.Error ?? "").Where(p => p.Length > 0))}");
        File.WriteAllText(Path.Combine(directory, "lab.md"), md.ToString());
        File.WriteAllText(Path.Combine(directory, "lab.json"), JsonSerializer.Serialize(new
        {
            command, wall_seconds = wall.TotalSeconds, reference = new { slm = reference.Slm, llm = reference.Llm },
            scenarios = results.Select(r => new
            {
                scenario = LabTrial.Name(r.Scenario), fault = r.Fault, passed = r.Passed, completed = r.Completed, identical = r.Identical,
                journal_problems = r.JournalProblems, rejoins = r.Rejoins.Select(j => new { node = j.Node, seconds = j.Seconds, rejoined = j.Rejoined, island_members = j.Island }),
                supervisor_restarts = r.SupervisorRestarts, wall_seconds = r.WallSeconds, error = r.Error,
            }),
        }, new JsonSerializerOptions { WriteIndented = true }));
    }
}

using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCoLLM.Actors.Protocol;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Federation;

/// <summary><c>fedcollm jobs</c>: every job the cluster accepted, in submission order, with its state.</summary>
public sealed class JobsCommand : AsyncCommand<JobsCommand.Settings>
{
    public sealed class Settings : ClusterAccessSettings
    {
        [CommandOption("--json")] [Description("One JSON array on stdout, for scripts.")]
        public bool Json { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        await using var cluster = await ClusterAccess.ConnectAsync(s, cancellation);
        var jobs = await cluster.List(cancellation);
        var rows = new List<(JobEntry Entry, JobStatus Status)>();
        foreach (var job in jobs) rows.Add((job, await cluster.Status(job.JobId, cancellation)));
        if (s.Json)
        {
            var array = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
            {
                ["job"] = r.Entry.JobId,
                ["strategy"] = r.Status.State.Job?.Strategy,
                ["state"] = r.Status.State.Phase.ToString(),
                ["round"] = r.Status.State.Round,
                ["rounds"] = r.Status.State.Job?.Rounds,
                ["clients"] = new JsonArray(r.Entry.Enrolled.Select(c => (JsonNode)c!).ToArray()),
                ["submitted"] = r.Entry.ListedAt.ToString("O"),
                ["spec_sha256"] = r.Status.State.Job?.DefinitionRef.Sha256,
                ["failure"] = r.Status.State.FailureReason,
            }).ToArray());
            Console.WriteLine(array.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        if (rows.Count == 0)
        {
            Console.WriteLine("No jobs. Submit one with `fedcollm submit JOB-FILE`.");
            return 0;
        }
        var table = new Table().AddColumns("job", "strategy", "state", "round", "clients", "submitted (UTC)");
        foreach (var (entry, status) in rows)
            table.AddRow(Markup.Escape(entry.JobId), Markup.Escape(status.State.Job?.Strategy ?? "?"), Markup.Escape(status.State.Phase.ToString()),
                $"{status.State.Round}/{status.State.Job?.Rounds}", Markup.Escape(string.Join(", ", entry.Enrolled)), entry.ListedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"));
        AnsiConsole.Write(table);
        return 0;
    }
}

using System.ComponentModel;
using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Server;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// <c>fedcollm status [JOB]</c>: a job's state, live progress, results and final adapter hashes. It asks the running
/// cluster; when none runs at --out it reads the run's journal instead (Akka.Persistence.Query) and also lists every
/// persisted event. <c>--json</c> prints one JSON object per job for scripts.
/// </summary>
public sealed class StatusCommand : AsyncCommand<StatusCommand.Settings>
{
    public sealed class Settings : ClusterAccessSettings
    {
        [CommandArgument(0, "[JOB]")] [Description("The job id (default: every job).")]
        public string? JobId { get; init; }
        [CommandOption("--json")] [Description("JSON on stdout (report.json's shape plus live progress), for scripts.")]
        public bool Json { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var running = s.SeedNodes.Length > 0 || File.Exists(LocalCluster.AddressFile(s.Out));
        var jobs = running ? await FromCluster(s, cancellation) : await FromJournal(s, cancellation);
        if (jobs is null) return 2;
        if (s.JobId is not null) jobs = jobs.Where(j => j.State.Job?.JobId == s.JobId).ToList();
        if (jobs.Count == 0)
        {
            AnsiConsole.MarkupLine($"[red]No job{(s.JobId is null ? "" : " " + Markup.Escape(s.JobId))}[/] {(running ? "in the cluster" : "in " + Markup.Escape(LocalCluster.JournalPath(s.Out)))}.");
            return 1;
        }
        if (s.Json)
        {
            var array = new JsonArray(jobs.Select(j =>
            {
                var report = RunReport.Json(j.State);
                report["state"] = j.State.Phase.ToString();
                report["live"] = new JsonArray(j.Live.Select(p => (JsonNode)new JsonObject
                {
                    ["worker"] = p.Worker, ["round"] = p.Round, ["phase"] = p.Phase.ToString(), ["step"] = p.Step, ["total_steps"] = p.TotalSteps, ["loss"] = p.Loss,
                }).ToArray());
                return (JsonNode)report;
            }).ToArray());
            Console.WriteLine((s.JobId is null ? array : array[0]!).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        foreach (var (state, live, events) in jobs)
        {
            if (events is not null) AnsiConsole.Write(events);
            Console.WriteLine($"Job {state.Job?.JobId} ({state.Job?.Strategy}, spec {state.Job?.DefinitionRef.Sha256[..12]}): {state.Phase}, round {state.Round}/{state.Job?.Rounds}, {state.History.Count} committed.");
            foreach (var p in live) Console.WriteLine($"  {p.Worker}: round {p.Round} {p.Phase} step {p.Step}/{p.TotalSteps} loss {p.Loss:F3}");
            if (state.FailureReason is not null) Console.WriteLine($"Ended: {state.FailureReason}");
            if (state.History.Count > 0)
            {
                ResultsTable.Print(state);
                var last = state.History[^1];
                Console.WriteLine($"Final SLM adapter sha256 {last.Slm.Sha256}");
                Console.WriteLine($"Final LLM adapter sha256 {last.Llm.Sha256}");
            }
        }
        return 0;
    }

    sealed record JobView(RoundState State, IReadOnlyList<LiveProgress> Live, Table? Events);

    static async Task<List<JobView>?> FromCluster(Settings s, CancellationToken cancellation)
    {
        await using var cluster = await ClusterAccess.ConnectAsync(s, cancellation);
        if (s.JobId is not null && !await JobLookup.Exists(cluster, s.JobId, cancellation)) return null;
        var views = new List<JobView>();
        foreach (var job in await cluster.List(cancellation))
            if (s.JobId is null || job.JobId == s.JobId)
            {
                var status = await cluster.Status(job.JobId, cancellation);
                views.Add(new JobView(status.State, status.Live, null));
            }
        return views;
    }

    /// <summary>Every job in the run's SQLite journal (or the --config journal), folded from its events.</summary>
    static async Task<List<JobView>?> FromJournal(Settings s, CancellationToken cancellation)
    {
        if (!File.Exists(LocalCluster.JournalPath(s.Out)) && s.Config.Length == 0)
        {
            AnsiConsole.MarkupLine($"[red]--out {Markup.Escape(s.Out)}:[/] no running cluster and no journal.db there; pass the directory a `fedcollm run --out …` wrote.");
            return null;
        }
        if (SqliteJournalFile.Unreadable(LocalCluster.JournalPath(s.Out)) is { } unreadable)
        {
            AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(unreadable)}");
            return null;
        }
        var files = s.Config.Length > 0 ? s.Config : ["serialization.conf", "persistence-sqlite.conf"];
        var config = LocalCluster.LoadConfig(s.Out, files);
        var system = FederationHost.CreateSystem(Akka.Configuration.ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.loglevel = WARNING\n" + StandardErrorLogger.Config).WithFallback(config));
        try
        {
            var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
            var materializer = system.Materializer();
            var ids = await journal.CurrentPersistenceIds().Where(id => id.StartsWith(ServerActor.PersistenceIdPrefix, StringComparison.Ordinal))
                .RunAggregate(new List<string>(), (list, id) => { list.Add(id); return list; }, materializer);
            var views = new List<JobView>();
            foreach (var id in ids.Order(StringComparer.Ordinal))
            {
                var events = await journal.CurrentEventsByPersistenceId(id, 0, long.MaxValue)
                    .RunAggregate(new List<EventEnvelope>(), (list, e) => { list.Add(e); return list; }, materializer);
                var state = RoundState.Empty;
                var table = new Table().Title(Markup.Escape($"{id}: {events.Count} events")).AddColumns("#", "at (UTC)", "event", "details");
                foreach (var envelope in events)
                {
                    var e = (IRoundEvent)envelope.Event;
                    state = state.Apply(e);
                    table.AddRow($"{envelope.SequenceNr}", e.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"), e.GetType().Name, Markup.Escape(Describe(e)));
                }
                if (state.Job is not null) views.Add(new JobView(state, [], table));
            }
            return views;
        }
        finally
        {
            await system.Terminate();
        }
    }

    static string Describe(IRoundEvent e) => e switch
    {
        JobStarted j => $"job {j.Spec.JobId} ({j.Spec.Strategy}, spec {j.Spec.DefinitionRef.Sha256[..12]}): clients {string.Join(", ", j.Spec.ClientIds)}; {j.Spec.Rounds} rounds; seed {j.Spec.Seed}; phases {string.Join(" → ", j.Spec.Phases.Select(p => p.Name))}",
        AdaptersInitialized a => $"SLM {a.Slm.Sha256[..12]}, LLM {a.Llm.Sha256[..12]}",
        ClientUpdateAccepted u => $"round {u.Round} {u.ClientId}: {u.Update.Sha256[..12]}, {u.SampleCount} samples, train loss {u.TrainLoss:F3}",
        ClientUpdateRejected r => $"round {r.Round} {r.ClientId}: refused ({r.Fault}) {r.Reason}",
        TrainingClosed t => $"round {t.Round}: missing {string.Join(", ", t.Missing)}",
        RoundAbandoned r => $"round {r.Round} attempt {r.Attempt}: {r.Reason}",
        PhaseCompleted p => $"round {p.Round} {p.Phase} → {p.Output?.Sha256[..12] ?? "-"} {string.Join(" ", p.Metrics.Where(m => m.Key.EndsWith("_loss", StringComparison.Ordinal)).Select(m => $"{m.Key} {m.Value:F3}"))}",
        SlmBroadcast b => $"round {b.Round}: {b.Slm.Sha256[..12]} to {string.Join(", ", b.Recipients)}",
        RoundCommitted c => $"round {c.Round}: SLM {c.Slm.Sha256[..12]}, LLM {c.Llm.Sha256[..12]}",
        JobFailed f => f.Reason,
        JobCancelled c => c.Reason,
        SecAggMessageAccepted m => $"round {m.Round} attempt {m.Attempt} secure-aggregation step {m.Step} ({SecAggOperations.StepName(m.Step)}) {m.ClientId}: {m.Message.Sha256[..12]}",
        SecAggStepClosed c => $"round {c.Round} attempt {c.Attempt} secure-aggregation step {c.Step} closed at its deadline; dropped {string.Join(", ", c.Dropped)}",
        SecAggStepComputed c => $"round {c.Round} attempt {c.Attempt} secure-aggregation step {c.Step} server part → {string.Join(", ", c.Outputs.Select(o => o.Sha256[..12]))}",
        _ => "",
    };
}

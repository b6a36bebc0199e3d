using System.ComponentModel;
using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using FedCoLLM.Actors.Rounds;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Federation;

/// <summary><c>fedcollm status --out DIR</c>: the persisted history of a run, read back from its journal
/// (Akka.Persistence.Query), independent of any running node.</summary>
public sealed class StatusCommand : AsyncCommand<StatusCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--out <DIR>")] [Description("The run directory given to `fedcollm run`.")] [DefaultValue("runs/fedcollm")]
        public string Out { get; init; } = "runs/fedcollm";
        [CommandOption("--config <FILE>")] [Description("HOCON files of the run, if it used others than the defaults; repeatable.")]
        public string[] Config { get; init; } = [];

        public override ValidationResult Validate() =>
            File.Exists(LocalCluster.JournalPath(Out)) || Config.Length > 0
                ? ValidationResult.Success()
                : ValidationResult.Error($"--out {Out}: no journal.db there; pass the directory a `fedcollm run --out …` wrote.");
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var files = s.Config.Length > 0 ? s.Config : ["serialization.conf", "persistence-sqlite.conf"];
        var config = LocalCluster.LoadConfig(s.Out, files);
        var system = LocalCluster.CreateSystem(Akka.Configuration.ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.loglevel = WARNING").WithFallback(config));
        try
        {
            var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
            var materializer = system.Materializer();
            var ids = await journal.CurrentPersistenceIds().Where(id => id.StartsWith("federation-job-", StringComparison.Ordinal))
                .RunAggregate(new List<string>(), (list, id) => { list.Add(id); return list; }, materializer);
            if (ids.Count == 0)
            {
                Console.WriteLine($"No federation job in {LocalCluster.JournalPath(s.Out)}.");
                return 1;
            }
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
                AnsiConsole.Write(table);
                Console.WriteLine($"Status: {state.Phase}, round {state.Round}/{state.Job?.Rounds}, {state.History.Count} committed.");
                if (state.FailureReason is not null) Console.WriteLine($"Failure: {state.FailureReason}");
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
        finally
        {
            await system.Terminate();
        }
    }

    static string Describe(IRoundEvent e) => e switch
    {
        JobStarted j => $"job {j.Spec.JobId}: clients {string.Join(", ", j.Spec.ClientIds)}; {j.Spec.Rounds} rounds; seed {j.Spec.Seed}; phases {string.Join("→", j.Spec.Phases)}",
        AdaptersInitialized a => $"SLM {a.Slm.Sha256[..12]}, LLM {a.Llm.Sha256[..12]}",
        ClientUpdateAccepted u => $"round {u.Round} {u.ClientId}: {u.Update.Sha256[..12]}, {u.SampleCount} samples, train loss {u.TrainLoss:F3}",
        TrainingClosed t => $"round {t.Round}: missing {string.Join(", ", t.Missing)}",
        RoundAbandoned r => $"round {r.Round} attempt {r.Attempt}: {r.Reason}",
        PhaseCompleted p => $"round {p.Round} {p.Phase} → {p.Output.Sha256[..12]} {string.Join(" ", p.Metrics.Where(m => m.Key.EndsWith("_loss", StringComparison.Ordinal)).Select(m => $"{m.Key} {m.Value:F3}"))}",
        SlmBroadcast b => $"round {b.Round}: {b.Slm.Sha256[..12]} to {string.Join(", ", b.Recipients)}",
        RoundCommitted c => $"round {c.Round}: SLM {c.Slm.Sha256[..12]}, LLM {c.Llm.Sha256[..12]}",
        JobFailed f => f.Reason,
        _ => "",
    };
}

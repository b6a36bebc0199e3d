using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Server;

namespace FedCoLLM.Actors.Identity;

/// <summary>Reads one job's journal rows, offline, from the journal the configuration names (the SQLite file of a local
/// run, or PostgreSQL): a local ActorSystem with no remoting and no cluster, Akka.Persistence.Query's current events.</summary>
public static class JournalLedger
{
    public static async Task<IReadOnlyList<LedgerEntry>> Read(Config config, string jobId, CancellationToken cancellation = default)
    {
        var offline = ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.loglevel = WARNING\nakka.stdout-loglevel = WARNING").WithFallback(config);
        var system = FederationHost.CreateSystem(offline);
        try
        {
            var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
            var envelopes = await journal.CurrentEventsByPersistenceId(ServerActor.PersistenceIdPrefix + jobId, 0, long.MaxValue)
                .RunWith(Sink.Seq<EventEnvelope>(), system.Materializer()).WaitAsync(cancellation);
            return envelopes.Select(e => new LedgerEntry(e.SequenceNr, (IRoundEvent)e.Event)).ToArray();
        }
        finally
        {
            await system.Terminate();
        }
    }
}

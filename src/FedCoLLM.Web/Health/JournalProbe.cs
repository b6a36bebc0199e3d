using Akka.Actor;
using Akka.Persistence;

namespace FedCoLLM.Web.Health;

/// <summary>
/// Asks the node's configured journal for the highest sequence number of a persistence id nobody writes to: the same
/// query an entity's recovery starts with, so an answer proves the journal (and the database behind it) responds. It
/// writes nothing. Concurrent checks share one query.
/// </summary>
public sealed class JournalProbe : ReceiveActor
{
    public const string PersistenceId = "fedcollm-readiness-probe";

    /// <summary>Answered with the highest sequence number (a <see cref="long"/>) or a <see cref="Status.Failure"/>.</summary>
    public sealed record Check : INoSerializationVerificationNeeded
    {
        public static readonly Check Instance = new();
    }

    readonly List<IActorRef> waiting = [];

    public static Props Props() => Akka.Actor.Props.Create(() => new JournalProbe());

    public JournalProbe()
    {
        var journal = Persistence.Instance.Apply(Context.System).JournalFor(null);
        Receive<Check>(_ =>
        {
            waiting.Add(Sender);
            // max = 0: the journal reads the highest sequence number and replays nothing.
            if (waiting.Count == 1) journal.Tell(new ReplayMessages(0, long.MaxValue, 0, PersistenceId, Self));
        });
        Receive<RecoverySuccess>(s => Answer(s.HighestSequenceNr));
        Receive<ReplayMessagesFailure>(f => Answer(new Akka.Actor.Status.Failure(f.Cause)));
        Receive<ReplayedMessage>(_ => { });
    }

    void Answer(object reply)
    {
        foreach (var asker in waiting) asker.Tell(reply);
        waiting.Clear();
    }
}

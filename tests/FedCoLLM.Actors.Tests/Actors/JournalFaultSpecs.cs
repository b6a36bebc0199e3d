using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.TestKit;
using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Tests.Actors;

/// <summary>
/// The job entity journals to Akka.Persistence.TestKit's TestJournal (remember-entities stays on SQLite), so single
/// writes can be failed or rejected: a failed ClientUpdateAccepted stops the entity, sharding restarts it and the
/// client's resend is accepted once; a rejected one leaves the state unchanged and the resend is accepted later.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class JournalFaultSpecs
{
    const string Victim = "noun.plant";

    [Fact]
    public async Task A_failed_write_of_a_client_update_restarts_the_entity_and_the_resend_is_journaled_exactly_once()
    {
        const string job = "write-fail";
        using var run = new RunDirectory();
        await using var node = TestNode.Start(run, job, TestNode.RealRunner(run), Tiny.TwoClients, extraHocon: TestNode.TestJournalHocon);
        var journal = TestJournal.FromRef(Persistence.Instance.Apply(node.System).JournalFor(null));
        int failed = 0;
        await journal.OnWrite.FailIf(p => p.Payload is ClientUpdateAccepted u && u.ClientId == Victim && Interlocked.Exchange(ref failed, 1) == 0);

        await node.StartJob(Tiny.Spec(job));
        var final = await node.WaitForEnd(job);

        Assert.Equal(1, Volatile.Read(ref failed));
        Assert.Equal(RoundPhase.Completed, final.Phase);
        Assert.Equal(Tiny.TwoClients, Assert.Single(final.History).Participants);
        var events = await ReadJournal(node.System, job);
        foreach (var client in Tiny.TwoClients)
            Assert.Single(events.OfType<ClientUpdateAccepted>(), u => u.ClientId == client);
        Assert.Single(events.OfType<JobStarted>());
        Assert.Single(events.OfType<RoundCommitted>());
    }

    [Fact]
    public async Task A_rejected_write_leaves_the_state_unchanged_and_the_clients_resend_is_accepted_later()
    {
        const string job = "write-reject";
        using var run = new RunDirectory();
        await using var node = TestNode.Start(run, job, TestNode.RealRunner(run), Tiny.TwoClients, extraHocon: TestNode.TestJournalHocon);
        var journal = TestJournal.FromRef(Persistence.Instance.Apply(node.System).JournalFor(null));
        var rejected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await journal.OnWrite.RejectIf(p =>
        {
            if (p.Payload is not ClientUpdateAccepted u || u.ClientId != Victim) return false;
            return rejected.TrySetResult();
        });

        await node.StartJob(Tiny.Spec(job));
        await rejected.Task.WaitAsync(TimeSpan.FromSeconds(45), TestContext.Current.CancellationToken);
        // The client resends only after 3 s, so right now the entity must still be waiting for the victim.
        var during = await node.Status(job);
        Assert.Equal(RoundPhase.ClientsTraining, during.Phase);
        Assert.DoesNotContain(Victim, during.Updates.Keys);
        Assert.Contains(Victim, during.Waiting);

        var final = await node.WaitForEnd(job);
        Assert.Equal(RoundPhase.Completed, final.Phase);
        Assert.Equal(Tiny.TwoClients, Assert.Single(final.History).Participants);
        var events = await ReadJournal(node.System, job);
        foreach (var client in Tiny.TwoClients)
            Assert.Single(events.OfType<ClientUpdateAccepted>(), u => u.ClientId == client);
    }

    /// <summary>Replays the job's journal into a throw-away reader with the same persistence id.</summary>
    static async Task<IReadOnlyList<IRoundEvent>> ReadJournal(ActorSystem system, string jobId)
    {
        var done = new TaskCompletionSource<IReadOnlyList<IRoundEvent>>(TaskCreationOptions.RunContinuationsAsynchronously);
        system.ActorOf(Props.Create(typeof(JournalReader), $"federation-job-{jobId}", done));
        return await done.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    sealed class JournalReader(string persistenceId, TaskCompletionSource<IReadOnlyList<IRoundEvent>> done) : UntypedPersistentActor
    {
        readonly List<IRoundEvent> events = [];

        public override string PersistenceId => persistenceId;

        // Every event, not just those after the round-commit snapshot.
        public override Recovery Recovery => new(SnapshotSelectionCriteria.None);

        protected override void OnRecover(object message)
        {
            if (message is IRoundEvent e) events.Add(e);
            else if (message is RecoveryCompleted)
            {
                done.TrySetResult(events.ToArray());
                Context.Stop(Self);
            }
        }

        protected override void OnCommand(object message) { }
    }
}

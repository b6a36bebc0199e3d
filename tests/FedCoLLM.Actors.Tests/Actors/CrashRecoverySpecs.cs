using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Tests.Actors;

/// <summary>Crash and recovery of the job entity, with its journal read back, on each journal provider.</summary>
public abstract class CrashRecoverySpecs : JournalProviderSpec
{
    [Fact]
    public async Task A_node_killed_in_SlmDistillation_restarts_the_job_in_that_phase_and_completes_without_duplicates()
    {
        const string job = "crash";
        using var run = new RunDirectory();
        var journal = Journal();
        var first = new FlakyRunner(TestNode.RealRunner(run), RoundPhase.NotStarted, 0).Hold(RoundPhase.SlmDistillation);
        var node = TestNode.Start(run, job, first, Tiny.TwoClients, journal: journal);
        try
        {
            Assert.Equal(Outcome.Accepted, (await node.StartJob(Tiny.Spec(job))).Outcome);
            await node.WaitFor(job, s => s.Phase == RoundPhase.SlmDistillation, TimeSpan.FromSeconds(45), "SlmDistillation");
        }
        finally
        {
            await node.Crash(); // the held step is cancelled with the worker
        }

        // A new incarnation on the same journal and blob store; it holds SlmDistillation too, so the phase it
        // recovered into can be observed before it moves on.
        var second = new FlakyRunner(TestNode.RealRunner(run), RoundPhase.NotStarted, 0).Hold(RoundPhase.SlmDistillation);
        await using var again = TestNode.Start(run, job, second, Tiny.TwoClients, journal: journal);
        var recovered = await again.WaitFor(job, s => s.Job is not null, TimeSpan.FromSeconds(30), "the job entity to recover");
        Assert.Equal(RoundPhase.SlmDistillation, recovered.Phase);
        Assert.Equal(1, recovered.Round);
        Assert.Equal(Tiny.TwoClients, recovered.Updates.Keys.Order(StringComparer.Ordinal));
        second.Release();

        var final = await again.WaitForEnd(job);
        Assert.Equal(RoundPhase.Completed, final.Phase);
        // The second incarnation re-ran only the pending work: nothing before SlmDistillation.
        Assert.Equal([RoundPhase.SlmDistillation, RoundPhase.SlmTeacherLogits, RoundPhase.LlmDistillation, RoundPhase.Evaluating],
            second.Calls.Select(c => c.Phase).Distinct());

        var events = await again.JournalEvents(job);
        foreach (var client in Tiny.TwoClients)
            Assert.Single(events.OfType<ClientUpdateAccepted>(), u => u.ClientId == client && u.Round == 1);
        Assert.Single(events.OfType<JobStarted>());
        Assert.Single(events.OfType<AdaptersInitialized>());
        foreach (var phase in new[] { RoundPhase.Aggregating, RoundPhase.LlmTeacherLogits, RoundPhase.SlmDistillation, RoundPhase.SlmTeacherLogits, RoundPhase.LlmDistillation })
            Assert.Single(events.OfType<PhaseCompleted>(), p => p.Phase == phase);
        Assert.Single(events.OfType<RoundCommitted>());
        // On PostgreSQL: the round journal and the derived remember-entities tables hold rows.
        if (PostgresRows("journal", FedCoLLM.Actors.Server.ServerActor.PersistenceIdPrefix + job) is { } rows)
        {
            Assert.Equal(events.Count, rows);
            Assert.True(PostgresRows("sharding_journal") > 0, "remember-entities wrote nothing to sharding_journal");
            Assert.True(PostgresRows("snapshot") > 0, "no snapshot in PostgreSQL");
        }
    }
}

[Collection(FederationCollection.Name)]
public sealed class SqliteCrashRecoverySpecs : CrashRecoverySpecs
{
    private protected override bool OnPostgres => false;
}

[Collection(FederationCollection.Name)]
public sealed class PostgresCrashRecoverySpecs : CrashRecoverySpecs
{
    private protected override bool OnPostgres => true;
}

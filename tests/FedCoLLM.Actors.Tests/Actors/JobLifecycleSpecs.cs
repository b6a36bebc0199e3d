using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Tests.Actors;

/// <summary>A whole job, with its journal read back, on each journal provider.</summary>
public abstract class JobLifecycleSpecs : JournalProviderSpec
{
    [Fact]
    public async Task A_tiny_two_client_job_completes_with_one_accepted_update_per_client()
    {
        using var run = new RunDirectory();
        var runner = new FlakyRunner(TestNode.RealRunner(run), RoundPhase.NotStarted, 0);
        await using var node = TestNode.Start(run, "happy", runner, Tiny.TwoClients, journal: Journal());
        var accepted = await node.StartJob(Tiny.Spec("happy"));
        Assert.Equal(Outcome.Accepted, accepted.Outcome);

        var final = await node.WaitForEnd("happy");
        Assert.Equal(RoundPhase.Completed, final.Phase);
        var round = Assert.Single(final.History);
        Assert.Equal(Tiny.TwoClients, round.Participants);
        Assert.Empty(round.Missing);

        var events = await node.JournalEvents("happy");
        Assert.Equal(Tiny.TwoClients, events.OfType<ClientUpdateAccepted>().Select(u => u.ClientId).Order(StringComparer.Ordinal));
        Assert.Single(events.OfType<RoundCommitted>());
        Assert.Equal(Outcome.Duplicate, (await node.StartJob(Tiny.Spec("happy"))).Outcome);
    }
}

[Collection(FederationCollection.Name)]
public sealed class SqliteJobLifecycleSpecs : JobLifecycleSpecs
{
    private protected override bool OnPostgres => false;
}

[Collection(FederationCollection.Name)]
public sealed class PostgresJobLifecycleSpecs : JobLifecycleSpecs
{
    private protected override bool OnPostgres => true;
}

using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Tests.Actors;

/// <summary>Two clients in the spec, one started: the other never answers.</summary>
[Collection(FederationCollection.Name)]
public sealed class DeadlineSpecs
{
    const string Present = "noun.animal";
    const string Absent = "noun.plant";

    [Fact]
    public async Task With_a_quorum_of_one_the_round_closes_at_the_deadline_without_the_missing_client()
    {
        const string job = "quorum1";
        using var run = new RunDirectory();
        await using var node = TestNode.Start(run, job, TestNode.RealRunner(run), [Present]);
        // Three attempts: a client slowed past 3 s by a loaded machine gets another try (it answers a re-sent task from memory).
        await node.StartJob(Tiny.Spec(job) with { MinUpdates = 1, ClientTimeout = TimeSpan.FromSeconds(3), MaxRoundAttempts = 3 });

        var final = await node.WaitForEnd(job);
        Assert.Equal(RoundPhase.Completed, final.Phase);
        var round = Assert.Single(final.History);
        Assert.Equal([Present], round.Participants);
        Assert.Equal([Absent], round.Missing);
        var closed = Assert.Single((await node.JournalEvents(job)).OfType<TrainingClosed>());
        Assert.Equal([Absent], closed.Missing);
    }

    [Fact]
    public async Task Below_the_quorum_the_round_is_abandoned_and_the_job_fails_after_MaxRoundAttempts()
    {
        const string job = "quorum2";
        using var run = new RunDirectory();
        await using var node = TestNode.Start(run, job, TestNode.RealRunner(run), [Present]);
        await node.StartJob(Tiny.Spec(job) with { MinUpdates = 2, ClientTimeout = TimeSpan.FromSeconds(2), MaxRoundAttempts = 2 });

        var final = await node.WaitForEnd(job);
        Assert.Equal(RoundPhase.Failed, final.Phase);
        var events = await node.JournalEvents(job);
        var abandoned = Assert.Single(events.OfType<RoundAbandoned>());
        Assert.Equal((1, 1), (abandoned.Round, abandoned.Attempt));
        var failed = Assert.Single(events.OfType<JobFailed>());
        Assert.Contains("after 2 attempts", failed.Reason);
        Assert.Contains("quorum is 2", failed.Reason);
        Assert.Empty(events.OfType<TrainingClosed>());
    }
}

using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Cli.Chaos;

namespace FedCoLLM.Cli.Tests;

/// <summary>The chaos harness's own logic: the journal audit that decides "exactly once", and the fault draw.</summary>
public class ChaosCheckTests
{
    static readonly DateTimeOffset At = DateTimeOffset.UnixEpoch;
    static readonly BlobRef Blob = new(new string('a', 64), 10);
    static readonly string[] Clients = ["a", "b"];

    static ClientUpdateAccepted Update(int round, string client) => new(round, client, Blob, 5, 1.0, At);
    static RoundCommitted Commit(int round) => new(round, Blob, Blob, new Dictionary<string, double>(), At);

    [Fact]
    public void A_clean_journal_has_no_problems()
    {
        IRoundEvent[] events = [Update(1, "a"), Update(1, "b"), Commit(1), Update(2, "b"), Update(2, "a"), Commit(2)];
        Assert.Empty(JournalAudit.Check(events, Clients, rounds: 2));
    }

    [Fact]
    public void An_update_accepted_twice_in_one_attempt_is_named()
    {
        IRoundEvent[] events = [Update(1, "a"), Update(1, "a"), Update(1, "b"), Commit(1)];
        Assert.Equal(["round 1 attempt 1: the update of a was accepted twice"], JournalAudit.Check(events, Clients, rounds: 1));
    }

    [Fact]
    public void An_abandoned_attempt_starts_the_count_again()
    {
        IRoundEvent[] events = [Update(1, "a"), new RoundAbandoned(1, 1, "deadline", At), Update(1, "a"), Update(1, "b"), Commit(1)];
        Assert.Empty(JournalAudit.Check(events, Clients, rounds: 1));
    }

    [Fact]
    public void A_commit_without_every_client_a_second_commit_and_a_missing_round_are_named()
    {
        IRoundEvent[] events = [Update(1, "a"), Commit(1), Commit(1)];
        Assert.Equal(
            ["round 1 committed without the update of b", "round 1 committed without the update of b", "round 1 committed 2 times (expected once)", "round 2 committed 0 times (expected once)"],
            JournalAudit.Check(events, Clients, rounds: 2));
    }

    [Fact]
    public void Faults_replay_from_the_seed_and_every_kind_takes_its_turn()
    {
        var first = Enumerable.Range(0, 8).Select(t => ChaosFault.Draw(seed: 11, t, rounds: 2, clients: 2)).ToArray();
        var again = Enumerable.Range(0, 8).Select(t => ChaosFault.Draw(seed: 11, t, rounds: 2, clients: 2)).ToArray();
        Assert.Equal(first, again);
        foreach (var cycle in first.Chunk(4))
            Assert.Equal(Enum.GetValues<FaultKind>(), cycle.Select(f => f.Kind).Order());
        Assert.All(first, f => Assert.InRange(f.Round, 1, 2));
        Assert.NotEqual(first, Enumerable.Range(0, 8).Select(t => ChaosFault.Draw(seed: 12, t, rounds: 2, clients: 2)));
    }
}

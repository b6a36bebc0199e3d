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
            Assert.Equal(ChaosFault.Kinds(secureAggregation: false).Order(), cycle.Select(f => f.Kind).Order());
        Assert.All(first, f => Assert.InRange(f.Round, 1, 2));
        Assert.NotEqual(first, Enumerable.Range(0, 8).Select(t => ChaosFault.Draw(seed: 12, t, rounds: 2, clients: 2)));
    }

    [Fact]
    public void With_secure_aggregation_the_client_kill_strikes_a_protocol_step_and_the_other_kinds_draw_as_before()
    {
        var plain = Enumerable.Range(0, 8).Select(t => ChaosFault.Draw(seed: 11, t, rounds: 2, clients: 2)).ToArray();
        var secure = Enumerable.Range(0, 8).Select(t => ChaosFault.Draw(seed: 11, t, rounds: 2, clients: 2, secureAggregation: true)).ToArray();
        foreach (var cycle in secure.Chunk(4))
            Assert.Equal([FaultKind.JobHost, FaultKind.Aggregator, FaultKind.Transfer, FaultKind.ClientSecAgg], cycle.Select(f => f.Kind).Order());
        for (var t = 0; t < 8; t++)
            if (plain[t].Kind == FaultKind.ClientTraining) Assert.Equal(FaultKind.ClientSecAgg, secure[t].Kind);
            else Assert.Equal(plain[t], secure[t]);
        Assert.All(secure.Where(f => f.Kind == FaultKind.ClientSecAgg), f => Assert.InRange(f.SecAggStep, 0, 3));
    }

    static SecAggMessageAccepted Message(int attempt, int step, string client) => new(1, attempt, step, client, Blob, At);

    static IEnumerable<IRoundEvent> Protocol(int attempt, params string[] clients) =>
        Enumerable.Range(0, 4).SelectMany(step => clients.Select(c => (IRoundEvent)Message(attempt, step, c)));

    [Fact]
    public void Secure_aggregation_a_clean_journal_and_a_retried_attempt_have_no_problems()
    {
        Assert.Empty(JournalAudit.Check([.. Protocol(1, "a", "b"), Commit(1)], Clients, rounds: 1, secureAggregation: true));
        IRoundEvent[] retried = [Message(1, 0, "a"), Message(1, 0, "b"), Message(1, 1, "a"), new RoundAbandoned(1, 1, "deadline", At), .. Protocol(2, "b", "a"), Commit(1)];
        Assert.Empty(JournalAudit.Check(retried, Clients, rounds: 1, secureAggregation: true));
    }

    [Fact]
    public void Secure_aggregation_a_message_twice_a_missing_masked_input_and_a_plaintext_update_are_named()
    {
        IRoundEvent[] events = [.. Protocol(1, "a", "b").Where(e => e is not SecAggMessageAccepted { Step: 2, ClientId: "b" }), Message(1, 3, "a"), Update(1, "a"), Commit(1)];
        Assert.Equal(
            ["round 1 attempt 1: the secagg-unmask message of a was accepted twice", "round 1: a plaintext update of a was accepted in a secure-aggregation job",
             "round 1 attempt 1 committed without the secagg-mask message of b"],
            JournalAudit.Check(events, Clients, rounds: 1, secureAggregation: true));
    }
}

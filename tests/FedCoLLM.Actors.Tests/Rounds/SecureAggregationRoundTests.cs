using System.Text.Json;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Serialization;
using FedCoLLM.Actors.Strategies;
using static FedCoLLM.Actors.Tests.Rounds.Commands;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>The clients phase under secure aggregation, as a pure state machine: four collect steps, the server's
/// part of each, dropouts within t, and an attempt abandoned below the threshold.</summary>
public class SecureAggregationRoundTests
{
    static readonly SecureAggregationSpec Secure = new(MaxDropouts: 1, Clip: 0.5, MaxSamplesPerClient: 10_000, StepTimeout: TimeSpan.FromMinutes(1));
    static JobSpec Spec => Specs.FedAvg with { SecureAggregation = Secure };

    static BlobRef Message(int attempt, int step, string client) => Blobs.Named($"a{attempt}/s{step}/{client}");
    static BlobRef ServerOutput(int attempt, int step, int i = 0) => Blobs.Named($"a{attempt}/server{step}/{i}");

    static SubmitSecAggMessage Send(RoundState s, string client) => new(s.Round, s.Attempt, s.SecAgg!.Step, client, Message(s.Attempt, s.SecAgg.Step, client));

    /// <summary>The listed clients send the open step's message; the rest stay silent.</summary>
    static void Step(Federation f, params string[] senders)
    {
        foreach (var c in senders)
        {
            WaitingAgrees(f.State.SecAgg!);
            Assert.Equal(Outcome.Accepted, f.Send(Send(f.State, c)).Outcome);
        }
        WaitingAgrees(f.State.SecAgg!);
    }

    /// <summary>The per-message checks the job entity makes (O(log K)) say what the listed <see cref="SecAggRound.Waiting"/> says.</summary>
    static void WaitingAgrees(SecAggRound s)
    {
        Assert.Equal(s.Waiting.Count, s.WaitingCount);
        foreach (var c in Specs.Clients.Append("mallory"))
            Assert.Equal(s.Waiting.Contains(c), s.IsWaitingFor(c));
    }

    /// <summary>The server's part of the open step, with one output per sender at the routing step.</summary>
    static void Compute(Federation f)
    {
        var s = f.State.SecAgg!;
        Assert.True(s.Computing);
        int n = s.Step == 1 ? s.Bundles.Count : 1;
        var result = Result(Enumerable.Range(0, n).Select(i => ServerOutput(f.State.Attempt, s.Step, i)).ToArray());
        Assert.Equal(Outcome.Accepted, f.Send(new CompleteStep(f.State.Round, f.State.Phase, result)).Outcome);
    }

    static void Deadline(Federation f) => f.Send(new CloseSecAggStep(f.State.Round, f.State.Attempt, f.State.SecAgg!.Step));

    [Fact]
    public void A_secure_round_runs_four_steps_then_the_aggregator_unmasks_and_the_round_commits()
    {
        var f = Federation.InRound1(Spec);
        Assert.Equal(RoundPhase.ClientsTraining, f.State.Phase);
        var collect = Assert.IsType<CollectSecAgg>(f.State.NextWork());
        Assert.Equal((1, 1, 0), (collect.Round, collect.Attempt, collect.Step));
        Assert.Equal(Specs.Clients, collect.Waiting);
        Assert.Empty(f.State.Waiting); // no adapter is ever collected in the clear
        Assert.Equal(0, f.State.WaitingCount);
        Assert.False(f.State.IsWaitingFor("bob"));

        var task = f.State.SecAggClientTask("bob");
        Assert.Equal((SecAggOperations.Advertise, "bob"), (task.Operation, task.ClientId));
        Assert.Equal([Blobs.InitialSlm], task.Inputs);
        Assert.Equal(StepSeeds.For(42, 1, RoundPhase.ClientsTraining, "bob"), task.Seed);

        Step(f, Specs.Clients);
        var keys = Assert.IsType<RunServerStep>(f.State.NextWork()).Request;
        Assert.Equal(SecAggOperations.Keys, keys.Operation);
        Assert.Equal([Blobs.InitialSlm, .. Specs.Clients.Select(c => Message(1, 0, c))], keys.Inputs);
        Assert.Equal(Specs.Clients, keys.SecAgg!.Senders);
        Compute(f);

        Assert.Equal(SecAggOperations.Share, f.State.SecAggClientTask("alice").Operation);
        Assert.Equal([Blobs.InitialSlm, ServerOutput(1, 0)], f.State.SecAggClientTask("alice").Inputs);
        Step(f, Specs.Clients);
        Assert.Equal(SecAggOperations.Route, Assert.IsType<RunServerStep>(f.State.NextWork()).Request.Operation);
        Compute(f);

        // Each client gets the shares routed to it, and the masking step waits the client-training deadline.
        var mask = f.State.SecAggClientTask("carol");
        Assert.Equal(SecAggOperations.Mask, mask.Operation);
        Assert.Equal([Blobs.InitialSlm, ServerOutput(1, 0), ServerOutput(1, 1, 2)], mask.Inputs);
        Assert.Equal(f.Now - TimeSpan.FromSeconds(1) + Spec.ClientTimeout, f.State.SecAgg!.Deadline);
        Step(f, Specs.Clients);
        var request = Assert.IsType<RunServerStep>(f.State.NextWork()).Request;
        Assert.Equal(SecAggOperations.Request, request.Operation);
        Compute(f);

        Assert.Equal([Blobs.InitialSlm, ServerOutput(1, 0), ServerOutput(1, 1, 0), ServerOutput(1, 2)], f.State.SecAggClientTask("alice").Inputs);
        Step(f, Specs.Clients);
        Assert.Equal(RoundPhase.Aggregating, f.State.Phase);
        var aggregation = Assert.IsType<RunAggregation>(f.State.NextWork()).Request;
        Assert.Equal(SecAggOperations.FedAvg, aggregation.Operation);
        Assert.Equal([Blobs.InitialSlm, ServerOutput(1, 0), ServerOutput(1, 2), .. Specs.Clients.Select(c => Message(1, 2, c)), .. Specs.Clients.Select(c => Message(1, 3, c))],
            aggregation.Inputs);
        Assert.Null(aggregation.SampleCounts); // the aggregator never sees an n_k

        f.RunTo(2, RoundPhase.ClientsTraining);
        Assert.Equal(Specs.Clients, f.State.History[0].Participants);
        Assert.Equal(0, f.State.SecAgg!.Step);
        f.RunToEndSecure();
        Assert.Equal(RoundPhase.Completed, f.State.Phase);
        Assert.Equal(JsonSerializer.Serialize(f.State, RoundEventSerializer.Json), JsonSerializer.Serialize(f.Replayed(), RoundEventSerializer.Json));
    }

    [Fact]
    public void An_adapter_in_the_clear_is_refused_when_the_job_aggregates_securely()
    {
        var f = Federation.InRound1(Spec);
        var d = f.Send(Update(1, "alice"));
        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Contains("secure aggregation", d.Detail);
        Assert.Empty(f.State.Updates);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_client_dropping_at_any_step_is_left_behind_at_the_deadline_and_the_round_goes_on(int dropAt)
    {
        var f = Federation.InRound1(Spec);
        for (int step = 0; step < 4; step++)
        {
            var senders = step >= dropAt ? new[] { "alice", "bob" } : Specs.Clients;
            Step(f, senders);
            if (step == dropAt)
            {
                Assert.Equal(["carol"], f.State.SecAgg!.Waiting);
                Deadline(f);
                Assert.Equal(["carol"], Assert.IsType<SecAggStepClosed>(f.Journal[^1]).Dropped);
            }
            if (step < 3)
            {
                Compute(f);
                Assert.Equal(senders, f.State.SecAgg!.Expected);
            }
        }
        Assert.Equal(RoundPhase.Aggregating, f.State.Phase);
        var contributors = dropAt == 3 ? Specs.Clients : ["alice", "bob"];
        Assert.Equal(contributors, f.State.SecAgg!.Masked.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Specs.Clients.Except(contributors), f.State.Missing);
    }

    [Fact]
    public void A_dropped_client_cannot_come_back_within_the_round()
    {
        var f = Federation.InRound1(Spec);
        Step(f, "alice", "bob");
        Deadline(f);
        Compute(f);
        var late = f.Send(new SubmitSecAggMessage(1, 1, 0, "carol", Message(1, 0, "carol")));
        Assert.Equal(Outcome.Late, late.Outcome);
        var d = f.Send(new SubmitSecAggMessage(1, 1, 1, "carol", Message(1, 1, "carol")));
        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Contains("dropped out", d.Detail);
    }

    [Fact]
    public void Below_the_threshold_the_attempt_is_abandoned_with_the_reason_and_the_next_starts_afresh()
    {
        var f = Federation.InRound1(Spec);
        Step(f, Specs.Clients);
        Compute(f);
        Step(f, Specs.Clients);
        Compute(f);
        Step(f, "alice"); // bob and carol drop while masking: 1 < K − t = 2
        Deadline(f);
        var abandoned = Assert.IsType<RoundAbandoned>(f.Journal[^1]);
        Assert.Contains("step 'masked-input': only 1 of 3 clients", abandoned.Reason);
        Assert.Contains("threshold 2", abandoned.Reason);
        Assert.Contains("secure-aggregation-dropouts = 1", abandoned.Reason);
        Assert.Equal((1, 2, 0), (f.State.Round, f.State.Attempt, f.State.SecAgg!.Step));
        Assert.Empty(f.State.SecAgg.Adverts);
        // A message of the abandoned attempt is late, and the new attempt's tasks name attempt 2 (fresh keys).
        Assert.Equal(Outcome.Late, f.Send(new SubmitSecAggMessage(1, 1, 2, "bob", Message(1, 2, "bob"))).Outcome);
        Assert.Equal(2, f.State.SecAggClientTask("bob").SecAgg!.Attempt);

        Deadline(f); // attempt 2: nobody answers
        Deadline(f); // attempt 3 (the last)
        Assert.Equal(RoundPhase.Failed, f.State.Phase);
        Assert.Contains("after 3 attempts", f.State.FailureReason);
    }

    [Fact]
    public void A_resent_message_is_a_duplicate_and_a_different_one_is_refused()
    {
        var f = Federation.InRound1(Spec);
        Step(f, "alice");
        Assert.Equal(Outcome.Duplicate, f.Send(new SubmitSecAggMessage(1, 1, 0, "alice", Message(1, 0, "alice"))).Outcome);
        var d = f.Send(new SubmitSecAggMessage(1, 1, 0, "alice", Blobs.Named("other")));
        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Equal(Outcome.Rejected, f.Send(new SubmitSecAggMessage(1, 1, 0, "mallory", Blobs.Named("m"))).Outcome);
    }

    [Fact]
    public void The_spec_refuses_what_secure_aggregation_cannot_do()
    {
        Assert.Contains("threshold K − t must exceed K/2", Assert.Throws<ArgumentException>(() => (Spec with { SecureAggregation = Secure with { MaxDropouts = 2 } }).Validate()).Message);
        Assert.Contains("enrol at least 2", Assert.Throws<ArgumentException>(() => (Spec with { ClientIds = ["alice"], MinUpdates = 1, SecureAggregation = Secure with { MaxDropouts = 0 } }).Validate()).Message);
        Assert.Contains("does not average client updates", Assert.Throws<ArgumentException>(() => (Spec with { Phases = new ZeroShotStrategy().Phases, SecureAggregation = Secure }).Validate()).Message);
        Assert.Equal("secure-aggregation (off vs " + Secure + ")", Specs.FedAvg.FirstDifference(Spec));
    }

    [Fact]
    public void A_snapshot_taken_mid_protocol_reads_back_to_the_same_state_and_work()
    {
        var f = Federation.InRound1(Spec);
        Step(f, Specs.Clients);
        Compute(f);
        Step(f, "alice", "bob");
        var bytes = JsonSerializer.SerializeToUtf8Bytes(f.State, RoundEventSerializer.Json);
        var back = (RoundState)RoundEventSerializer.Read(bytes, "round-state/v2");
        Assert.Equal(JsonSerializer.Serialize(f.State, RoundEventSerializer.Json), JsonSerializer.Serialize(back, RoundEventSerializer.Json));
        var work = Assert.IsType<CollectSecAgg>(back.NextWork());
        Assert.Equal(1, work.Step);
        Assert.Equal(["carol"], work.Waiting);
        Assert.Equal(f.State.SecAggClientTask("carol").Inputs, back.SecAggClientTask("carol").Inputs);
    }

    [Fact]
    public void The_new_events_round_trip_through_the_journal_serializer()
    {
        IRoundEvent[] events =
        [
            new SecAggMessageAccepted(1, 2, 3, "alice", Blobs.Named("m"), Federation.T0),
            new SecAggStepClosed(1, 2, 3, ["carol"], Federation.T0),
            new SecAggStepComputed(1, 2, 1, [Blobs.Named("a"), Blobs.Named("b")], Federation.T0),
        ];
        foreach (var e in events)
        {
            var manifest = RoundEventSerializerManifests.Of(e);
            var back = RoundEventSerializer.Read(JsonSerializer.SerializeToUtf8Bytes(e, e.GetType(), RoundEventSerializer.Json), manifest);
            Assert.Equal(JsonSerializer.Serialize(e, e.GetType(), RoundEventSerializer.Json), JsonSerializer.Serialize(back, back.GetType(), RoundEventSerializer.Json));
        }
    }
}

static class SecureFederation
{
    /// <summary>Runs every remaining phase, answering secure-aggregation steps with every expected client.</summary>
    public static void RunToEndSecure(this Federation f)
    {
        for (int guard = 0; f.State.IsRunning; guard++)
        {
            Assert.True(guard < 200);
            if (f.State.SecAgg is { } s && f.State.Plan!.RunBy == PhaseRunner.Clients)
            {
                if (s.Computing)
                {
                    int n = s.Step == 1 ? s.Bundles.Count : 1;
                    f.Given(new CompleteStep(f.State.Round, f.State.Phase, Result(Enumerable.Range(0, n).Select(i => Blobs.Named($"r{f.State.Round}/s{s.Step}/{i}")).ToArray())));
                }
                else
                    f.Given(s.Waiting.Select(c => (IRoundCommand)new SubmitSecAggMessage(f.State.Round, f.State.Attempt, s.Step, c, Blobs.Named($"r{f.State.Round}/s{s.Step}/{c}"))).ToArray());
            }
            else f.CompletePhase();
        }
    }
}

/// <summary>The journal manifest of an event, as the serializer writes it.</summary>
static class RoundEventSerializerManifests
{
    public static string Of(IRoundEvent e) => e switch
    {
        SecAggMessageAccepted => "secagg-message-accepted/v1",
        SecAggStepClosed => "secagg-step-closed/v1",
        SecAggStepComputed => "secagg-step-computed/v1",
        _ => throw new ArgumentException(e.GetType().Name),
    };
}

using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Server;
using FedCoLLM.Actors.Strategies;
using FedCoLLM.Actors.Serialization;

namespace FedCoLLM.Actors.Tests.Serialization;

/// <summary>
/// Journal events and the RoundState snapshot through <see cref="RoundEventSerializer"/>: versioned string manifests,
/// field-by-field round trips, golden JSON (so a format change is a deliberate, visible act), and a clear refusal
/// of manifests this version does not know.
/// </summary>
public sealed class RoundEventSerializationTests : IAsyncLifetime
{
    readonly ActorSystem system;
    readonly RoundEventSerializer serializer;

    public RoundEventSerializationTests()
    {
        var config = ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING")
            .WithFallback(FederationConfig.Load(["serialization.conf"]));
        system = ActorSystem.Create("journal-" + Guid.NewGuid().ToString("N")[..8], BootstrapSetup.Create().WithConfig(config).And(WireTypes.Setup()));
        serializer = Assert.IsType<RoundEventSerializer>(system.Serialization.FindSerializerForType(typeof(IRoundEvent)));
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await system.Terminate();

    static readonly BlobRef Slm = BlobRef.Of("slm"u8);
    static readonly BlobRef Llm = BlobRef.Of("llm"u8);
    static readonly BlobRef Update = BlobRef.Of("update"u8);
    static readonly DateTimeOffset At = new(2025, 3, 1, 9, 30, 15, 123, TimeSpan.FromHours(2));

    static JobSpec Spec => new()
    {
        JobId = "job-7",
        ClientIds = ["bob", "alice"],
        Rounds = 2,
        Seed = -3,
        Phases = new FedAvgStrategy().Phases,
        MinUpdates = 1,
        ClientTimeout = TimeSpan.FromSeconds(90),
        MaxRoundAttempts = 4,
        Definition = "abc123",
    };

    /// <summary>One sample per event type; <see cref="Every_event_type_has_a_sample_and_a_manifest"/> fails when one is missing.</summary>
    public static IReadOnlyList<IRoundEvent> EventSamples() =>
    [
        new JobStarted(Spec, At),
        new AdaptersInitialized(Slm, Llm, At),
        new ClientUpdateAccepted(1, "alice", Update, 10, 1.5, At),
        new TrainingClosed(1, ["bob"], At),
        new ClientUpdateRejected(1, "carol", Update, "non-finite", "key 'x' holds NaN at flat index 3", At),
        new RoundAbandoned(1, 2, "only 0 of 2", At),
        new PhaseCompleted(1, RoundPhase.LlmTeacherLogits, Llm, new Dictionary<string, double> { ["a"] = 1.25, ["nan"] = double.NaN, ["inf"] = double.PositiveInfinity }, At),
        new SlmBroadcast(1, Slm, ["alice", "bob"], At),
        new RoundCommitted(1, Slm, Llm, new Dictionary<string, double> { ["slm/acc/x"] = 0.5 }, At),
        new JobFailed("LlmTeacherLogits of round 1 failed 5 times", At),
        new JobCancelled("cancelled by fedcollm cancel", At),
        new SecAggMessageAccepted(1, 2, 3, "alice", Update, At),
        new SecAggStepClosed(1, 2, 3, ["bob"], At),
        new SecAggStepComputed(1, 2, 1, [Slm, Llm], At),
        new ClientDownloaded(2, "bob", ClientTransfer.Broadcast, Slm, new TransferCount(3, 1, 1), At),
    ];

    static readonly string[] ExpectedManifests =
    [
        "job-started/v2", "adapters-initialized/v1", "client-update-accepted/v1", "training-closed/v1", "client-update-rejected/v1", "round-abandoned/v1",
        "phase-completed/v1", "slm-broadcast/v1", "round-committed/v1", "job-failed/v1", "job-cancelled/v1",
        "secagg-message-accepted/v1", "secagg-step-closed/v1", "secagg-step-computed/v1",
        "client-downloaded/v1",
    ];

    [Fact]
    public void Measured_transfer_counts_round_trip_on_the_events_that_carry_them()
    {
        IRoundEvent[] measured =
        [
            new ClientUpdateAccepted(1, "bob", Update, 10, 1.5, At, 1, null, new TransferCount(6, 1, 2)),
            new ClientUpdateRejected(1, "bob", Update, "non-finite", "NaN", At, new TransferCount(6, 1, 1)),
            new SecAggMessageAccepted(1, 2, 3, "bob", Update, At, new TransferCount(6, 1, 1)),
        ];
        foreach (var e in measured)
        {
            var back = serializer.FromBinary(serializer.ToBinary(e), serializer.Manifest(e));
            Assert.Equal(Structural.Describe(e), Structural.Describe(back));
        }
    }

    [Fact]
    public void Every_event_type_has_a_sample_and_a_manifest()
    {
        var eventTypes = typeof(IRoundEvent).Assembly.GetTypes()
            .Where(t => typeof(IRoundEvent).IsAssignableFrom(t) && t is { IsInterface: false, IsAbstract: false })
            .ToHashSet();
        var sampled = EventSamples().Select(e => e.GetType()).ToHashSet();
        var missing = eventTypes.Except(sampled).Select(t => t.Name).ToList();
        Assert.True(missing.Count == 0, $"Add a sample to {nameof(EventSamples)} for: {string.Join(", ", missing)}");
        Type[] directory = [typeof(DirectoryJobListed), typeof(DirectoryJobEnded)];
        Assert.Equal(eventTypes.Append(typeof(RoundState)).Concat(directory).ToHashSet(), RoundEventSerializer.SerializedTypes.ToHashSet());
    }

    [Fact]
    public void Every_event_round_trips_under_its_versioned_manifest()
    {
        var expectedManifests = ExpectedManifests;
        var samples = EventSamples();
        Assert.Equal(expectedManifests.Length, samples.Count);
        for (int i = 0; i < samples.Count; i++)
        {
            var e = samples[i];
            var manifest = serializer.Manifest(e);
            Assert.Equal(expectedManifests[i], manifest);
            var back = serializer.FromBinary(serializer.ToBinary(e), manifest);
            Assert.IsType(e.GetType(), back);
            Assert.Equal(Structural.Describe(e), Structural.Describe(back));
        }
    }

    [Fact]
    public void The_directory_events_round_trip()
    {
        object[] events = [new DirectoryJobListed("job-7", ["alice", "bob"], At), new DirectoryJobEnded("job-7", "Cancelled", At)];
        foreach (var e in events)
        {
            var back = serializer.FromBinary(serializer.ToBinary(e), serializer.Manifest(e));
            Assert.Equal(Structural.Describe(e), Structural.Describe(back));
        }
    }

    [Theory]
    [InlineData("job-started/v1")]
    [InlineData("round-state/v1")]
    public void A_journal_written_before_job_files_is_refused_with_what_to_do(string manifest)
    {
        var ex = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary("{}"u8.ToArray(), manifest));
        Assert.Contains("new --out directory or job id", ex.Message);
    }

    [Fact]
    public void The_round_state_snapshot_round_trips_field_by_field_and_keeps_working()
    {
        var state = WireMessageSerializationTests.BusyState();
        Assert.Equal("round-state/v2", serializer.Manifest(state));
        var back = Assert.IsType<RoundState>(serializer.FromBinary(serializer.ToBinary(state), "round-state/v2"));
        Assert.Equal(Structural.Describe(state), Structural.Describe(back));
        // A recovered snapshot must drive the state machine exactly like the original.
        var next = new ClientUpdateAccepted(2, "alice", Update, 3, 0.1, At);
        Assert.Equal(Structural.Describe(state.Apply(next)), Structural.Describe(back.Apply(next)));
        Assert.Equal(Structural.Describe(state.NextWork()), Structural.Describe(back.NextWork()));
    }

    [Fact]
    public void The_empty_and_the_failed_state_round_trip()
    {
        foreach (var state in new[] { RoundState.Empty, RoundState.Empty.Apply(new JobStarted(Spec, At)).Apply(new JobFailed("x", At)) })
        {
            var back = serializer.FromBinary(serializer.ToBinary(state), serializer.Manifest(state));
            Assert.Equal(Structural.Describe(state), Structural.Describe(back));
        }
    }

    [Fact]
    public void An_unknown_manifest_is_a_SerializationException_that_names_it()
    {
        var bytes = serializer.ToBinary(new JobFailed("x", At));
        var error = Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes, "job-failed/v9"));
        Assert.Contains("\"job-failed/v9\"", error.Message);
        Assert.Contains("newer", error.Message);
    }

    [Fact]
    public void Malformed_JSON_is_a_SerializationException_that_names_the_manifest()
    {
        var error = Assert.Throws<SerializationException>(() => serializer.FromBinary("{\"Reason\": 12"u8.ToArray(), "job-failed/v1"));
        Assert.Contains("job-failed/v1", error.Message);
        Assert.Throws<SerializationException>(() => serializer.FromBinary("null"u8.ToArray(), "job-failed/v1"));
    }

    [Fact]
    public void A_type_without_a_manifest_is_refused_when_writing()
    {
        var error = Assert.Throws<ArgumentException>(() => serializer.Manifest("not an event"));
        Assert.Contains("no journal manifest", error.Message);
    }

    // ---- golden fixtures: the journal format of v1. If one of these fails, the on-disk format changed:
    // keep reading the old JSON (add an up-caster or a v2 manifest) before updating the fixture.

    const string ClientUpdateAcceptedV1 =
        """{"Round":1,"ClientId":"alice","Update":{"Sha256":"2937013f2181810606b2a799b05bda2849f3e369a20982a4138f0e0a55984ce4","Size":6},"SampleCount":10,"TrainLoss":1.5,"At":"2025-03-01T09:30:15.123+02:00"}""";

    const string PhaseCompletedV1 =
        """{"Round":1,"Phase":"LlmTeacherLogits","Output":{"Sha256":"487b91042c7cf27a19e23ea8699f5f354b1a0c3af9e418138dc6150d830f970d","Size":3},"Metrics":{"a":1.25,"nan":"NaN","inf":"Infinity"},"At":"2025-03-01T09:30:15.123+02:00"}""";

    [Fact]
    public void Golden_client_update_accepted_v1_reads_and_writes_the_same_JSON()
    {
        var e = (ClientUpdateAccepted)EventSamples().Single(x => x is ClientUpdateAccepted);
        Assert.Equal(ClientUpdateAcceptedV1, Encoding.UTF8.GetString(serializer.ToBinary(e)));
        var back = serializer.FromBinary(Encoding.UTF8.GetBytes(ClientUpdateAcceptedV1), "client-update-accepted/v1");
        Assert.Equal(Structural.Describe(e), Structural.Describe(back));
    }

    [Fact]
    public void Golden_phase_completed_v1_reads_and_writes_the_same_JSON()
    {
        var e = (PhaseCompleted)EventSamples().Single(x => x is PhaseCompleted);
        Assert.Equal(PhaseCompletedV1, Encoding.UTF8.GetString(serializer.ToBinary(e)));
        var back = serializer.FromBinary(Encoding.UTF8.GetBytes(PhaseCompletedV1), "phase-completed/v1");
        Assert.Equal(Structural.Describe(e), Structural.Describe(back));
    }
}

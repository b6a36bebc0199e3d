using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Akka.Streams;
using Akka.Streams.Dsl;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;
using FedCoLLM.Actors.Serialization;

namespace FedCoLLM.Actors.Tests.Serialization;

/// <summary>A wire message the production allow-list has never heard of: Hyperion must refuse to build it.</summary>
public sealed record NotAllowListed(string JobId, string Payload) : IWireMessage;

/// <summary>
/// Every wire message through the production serialization setup (hocon/serialization.conf + the Hyperion allow-list
/// from <see cref="WireTypes.Setup"/>): bound to Hyperion, and equal field by field after a round trip.
/// </summary>
public sealed class WireMessageSerializationTests : IAsyncLifetime
{
    readonly ActorSystem system;

    public WireMessageSerializationTests()
    {
        var config = ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING")
            .WithFallback(FederationConfig.Load(["serialization.conf"]));
        system = ActorSystem.Create("wire-" + Guid.NewGuid().ToString("N")[..8], BootstrapSetup.Create().WithConfig(config).And(WireTypes.Setup()));
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await system.Terminate();

    static readonly BlobRef Slm = BlobRef.Of("slm"u8);
    static readonly BlobRef Llm = BlobRef.Of("llm"u8);
    static readonly BlobRef Update = BlobRef.Of("update"u8);
    static readonly DateTimeOffset At = new(2025, 3, 1, 9, 30, 15, 123, TimeSpan.Zero);

    static JobSpec Spec => new()
    {
        JobId = "job-7",
        ClientIds = ["bob", "alice"],
        Rounds = 2,
        Seed = -3,
        MinUpdates = 1,
        ClientTimeout = TimeSpan.FromSeconds(90),
        MaxRoundAttempts = 4,
        Definition = "abc123",
    };

    static StepRequest Request => new("job-7", 1, RoundPhase.Aggregating, [Update, Slm], 99, null, [10, 20]);

    static StepResult Result => new([Slm], new Dictionary<string, double> { ["loss"] = 0.25, ["nan"] = double.NaN }, 30);

    /// <summary>A mid-round state with every collection filled, built through the state machine itself.</summary>
    internal static RoundState BusyState()
    {
        var s = RoundState.Empty
            .Apply(new JobStarted(Spec, At))
            .Apply(new AdaptersInitialized(Slm, Llm, At))
            .Apply(new ClientUpdateAccepted(1, "alice", Update, 10, 1.5, At, 1, null, new TransferCount(6, 1, 1)))
            .Apply(new TrainingClosed(1, ["bob"], At))
            .Apply(new PhaseCompleted(1, RoundPhase.Aggregating, Slm, new Dictionary<string, double> { ["m"] = 1 }, At))
            .Apply(new PhaseCompleted(1, RoundPhase.LlmTeacherLogits, Llm, new Dictionary<string, double>(), At))
            .Apply(new PhaseCompleted(1, RoundPhase.SlmDistillation, Slm, new Dictionary<string, double>(), At))
            .Apply(new SlmBroadcast(1, Slm, ["alice"], At))
            .Apply(new ClientDownloaded(1, "alice", ClientTransfer.Broadcast, Slm, new TransferCount(3, 1, 1), At))
            .Apply(new PhaseCompleted(1, RoundPhase.SlmTeacherLogits, Slm, new Dictionary<string, double>(), At))
            .Apply(new PhaseCompleted(1, RoundPhase.LlmDistillation, Llm, new Dictionary<string, double>(), At))
            .Apply(new RoundCommitted(1, Slm, Llm, new Dictionary<string, double> { ["slm/acc/x"] = 0.5 }, At))
            .Apply(new ClientUpdateAccepted(2, "bob", Update, 7, 0.75, At));
        Assert.Single(s.History);
        Assert.Equal(RoundPhase.ClientsTraining, s.Phase);
        return s;
    }

    /// <summary>One sample per concrete wire message type. A new message type without a sample fails
    /// <see cref="Every_wire_message_type_has_a_sample"/>, so it cannot be forgotten here.</summary>
    async Task<IReadOnlyDictionary<Type, object>> Samples(IActorRef someActor)
    {
        var sourceRef = await Source.Single(new byte[] { 1, 2, 3 }).RunWith(StreamRefs.SourceRef<byte[]>(), system.Materializer());
        object[] samples =
        [
            // With enrolled client keys: the spec travels with them (a dictionary through the allow-list).
            new StartFederation("job-7", Spec with { ClientKeys = new Dictionary<string, string> { ["alice"] = "ed25519:" + Convert.ToBase64String(new byte[32]), ["bob"] = "ed25519:" + Convert.ToBase64String(Enumerable.Repeat((byte)7, 32).ToArray()) } }),
            new JobAccepted("job-7", Outcome.Duplicate, "already started"),
            new GetJobStatus("job-7"),
            new JobStatus("job-7", BusyState(), [new LiveProgress("alice", 2, RoundPhase.ClientsTraining, 3, 10, 1.25)]),
            new LiveProgress("server", 1, RoundPhase.SlmDistillation, 1, 2, 0.5),
            new RegisterClient("job-7", "alice", someActor),
            new ClientRegistered("job-7", "alice", TimeSpan.FromSeconds(20)),
            new TrainRound("job-7", 1, 2, Slm, 12345, "akka.tcp://fedcollm@127.0.0.1:1234/user/blobs", Spec.DefinitionRef),
            new SubmitClientUpdate("job-7", 1, "alice", Update, 10, 1.5, "akka.tcp://fedcollm@127.0.0.1:1234/user/blobs", 2, Convert.ToBase64String(new byte[64])),
            new UpdateAcknowledged("job-7", 1, "alice", Outcome.Rejected, "no"),
            new ReportProgress("job-7", new LiveProgress("alice", 1, RoundPhase.ClientsTraining, 1, 2, 3)),
            new GlobalSlmReady("job-7", 1, Slm, "holder", Final: true),
            new AggregateUpdates("job-7", Request, "holder"),
            new AggregationStarted("job-7", Request),
            new Aggregated("job-7", Request, Result, "holder"),
            new AggregationFailed("job-7", Request, "boom"),
            Request,
            Result,
            new FetchBlob(Slm, Bulk: true),
            new BlobOffer(Slm, sourceRef),
            new BlobBulkOffer(Slm, "10.0.0.7", 40123, Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()),
            new BlobMissing(Llm),
            new BlobInline(Slm, [1, 2, 3]),
            new ReplicateBlob(Slm, "akka.tcp://fedcollm@127.0.0.1:1234/user/blobs"),
            new BlobReplicated(Slm),
            new CancelFederation("job-7", "no longer needed"),
            new JobEnded("job-7", RoundPhase.Cancelled),
            new ListJob("job-7", ["alice", "bob"]),
            new JobListed("job-7"),
            new DelistJob("job-7", "Completed"),
            new JobDelisted("job-7"),
            ListJobs.Instance,
            new JobEntry("job-7", ["alice"], At, null),
            new JobList([new JobEntry("job-7", ["alice"], At, "Failed")]),
            new JobsForClients(["alice", "bob"]),
            new ClientsJobs([new ClientJobs("alice", ["job-7", "job-8"]), new ClientJobs("bob", [])]),
            new ClientJobs("alice", ["job-7", "job-8"]),
            new SecAggTask("job-7", Request with
            {
                Operation = SecAggOperations.Mask,
                SecAgg = new SecAggStepSpec(2, 2, ["alice", "bob", "carol"], new SecureAggregationSpec(1, 0.5, 1000, TimeSpan.FromMinutes(2)), ["alice"], []),
            }, "holder"),
            new SubmitSecAggStep("job-7", 1, 2, 3, "alice", Update, "holder"),
            new SecAggAcknowledged("job-7", 1, 2, 3, "alice", Outcome.Late, "step over"),
            new ReportDownload("job-7", 1, "alice", ClientTransfer.Broadcast, Slm, new TransferCount(3, 1, 1)),
            new DownloadAcknowledged("job-7", 1, "alice", ClientTransfer.Broadcast, Slm, Outcome.Duplicate, "already recorded"),
        ];
        return samples.ToDictionary(s => s.GetType());
    }

    public static IEnumerable<Type> WireTypesInAssembly() =>
        typeof(IWireMessage).Assembly.GetTypes()
            .Where(t => typeof(IWireMessage).IsAssignableFrom(t) && t is { IsInterface: false, IsAbstract: false })
            .OrderBy(t => t.FullName, StringComparer.Ordinal);

    [Fact]
    public async Task Every_wire_message_type_has_a_sample()
    {
        var samples = await Samples(system.DeadLetters);
        var missing = WireTypesInAssembly().Where(t => !samples.ContainsKey(t)).Select(t => t.FullName).ToList();
        Assert.True(missing.Count == 0, $"Add a sample to {nameof(Samples)} for: {string.Join(", ", missing)}");
        Assert.True(WireTypesInAssembly().Count() >= 20);
    }

    [Fact]
    public async Task Every_wire_message_is_bound_to_Hyperion_and_round_trips_field_by_field()
    {
        var actor = system.ActorOf(Props.Empty, "some-client");
        var samples = await Samples(actor);
        var failures = new List<string>();
        foreach (var type in WireTypesInAssembly())
        {
            var message = samples[type];
            var serializer = system.Serialization.FindSerializerFor(message);
            if (serializer is not HyperionSerializer)
            {
                failures.Add($"{type.Name}: bound to {serializer.GetType().Name}, not Hyperion");
                continue;
            }
            try
            {
                var bytes = serializer.ToBinary(message);
                var back = serializer.FromBinary(bytes, type);
                Assert.IsType(type, back);
                var (expected, actual) = (Structural.Describe(message), Structural.Describe(back));
                if (expected != actual) failures.Add($"{type.Name}: round trip differs\n  sent {expected}\n  got  {actual}");
            }
            catch (Exception e)
            {
                failures.Add($"{type.Name}: {e.GetType().Name}: {e.Message}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void A_RegisterClient_carrying_an_actor_ref_round_trips_to_the_same_actor()
    {
        var actor = system.ActorOf(Props.Empty, "client-alice");
        var message = new RegisterClient("job-7", "alice", actor);
        var serializer = system.Serialization.FindSerializerFor(message);
        var back = Assert.IsType<RegisterClient>(serializer.FromBinary(serializer.ToBinary(message), typeof(RegisterClient)));
        Assert.Equal(actor, back.Client);
        Assert.Equal(message, back);
    }

    [Fact]
    public void The_generic_Serialization_path_with_manifest_round_trips_a_job_status()
    {
        // What remoting does: serializer id + manifest, then Deserialize.
        var message = new JobStatus("job-7", BusyState(), []);
        var serializer = system.Serialization.FindSerializerFor(message);
        var bytes = serializer.ToBinary(message);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var back = system.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
        Assert.Equal(Structural.Describe(message), Structural.Describe(back));
    }

    // Akka.Serialization.Hyperion 1.5.73 alone does not apply the setup's TypeFilter (its inner serializer gets
    // DisabledTypeFilter); AllowListedHyperionSerializer does. These specs keep that fixed.
    [Fact]
    public void A_type_outside_the_allow_list_is_refused_on_the_way_out()
    {
        var message = new NotAllowListed("job-7", "calc.exe");
        Assert.DoesNotContain(typeof(NotAllowListed), WireTypes.Allowed);
        var serializer = system.Serialization.FindSerializerFor(message);
        Assert.IsType<AllowListedHyperionSerializer>(serializer);
        var error = Record.Exception(() => serializer.ToBinary(message));
        Assert.NotNull(error);
        Assert.Contains(nameof(NotAllowListed), error.ToString());
    }

    [Fact]
    public void A_frame_naming_a_type_outside_the_allow_list_is_refused_on_the_way_in()
    {
        // A peer without the allow-list (or an attacker) writes the frame.
        var permissive = new Hyperion.Serializer(Hyperion.SerializerOptions.Default.WithVersionTolerance(true).WithPreserveObjectReferences(true));
        using var frame = new MemoryStream();
        permissive.Serialize(new NotAllowListed("job-7", "calc.exe"), frame);
        var serializer = system.Serialization.FindSerializerForType(typeof(JobAccepted));
        var error = Record.Exception(() => serializer.FromBinary(frame.ToArray(), typeof(object)));
        Assert.NotNull(error);
        Assert.Contains(nameof(NotAllowListed), error.ToString());
    }

    [Fact]
    public void A_smuggled_type_inside_an_allowed_message_is_refused()
    {
        // StepResult.Metrics is an IReadOnlyDictionary: a crafted frame could put any dictionary type there.
        var message = new StepResult([Slm], new SortedList<string, double> { ["x"] = 1 });
        Assert.DoesNotContain(typeof(SortedList<string, double>), WireTypes.Allowed);
        var serializer = system.Serialization.FindSerializerFor(message);
        var bytes = serializer.ToBinary(message);
        var error = Record.Exception(() => serializer.FromBinary(bytes, typeof(StepResult)));
        Assert.NotNull(error);
    }

    [Fact]
    public void The_allow_list_covers_every_wire_message_type()
    {
        foreach (var type in WireTypesInAssembly()) Assert.Contains(type, WireTypes.Allowed);
    }

    [Fact]
    public void Events_and_snapshots_are_bound_to_the_journal_serializer_not_Hyperion()
    {
        foreach (var sample in RoundEventSerializationTests.EventSamples().Cast<object>().Append(BusyState()))
            Assert.IsType<RoundEventSerializer>(system.Serialization.FindSerializerFor(sample));
    }
}

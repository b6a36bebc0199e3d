using System.Text;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>Fake but valid content addresses: the SHA-256 of a readable name, so a failing assertion says which blob it saw.</summary>
static class Blobs
{
    public static BlobRef Named(string name) => BlobRef.Of(Encoding.UTF8.GetBytes(name));
    public static BlobRef InitialSlm { get; } = Named("init/slm");
    public static BlobRef InitialLlm { get; } = Named("init/llm");
    public static BlobRef Update(int round, string client) => Named($"r{round}/update/{client}");
    public static BlobRef Output(int round, RoundPhase phase) => Named($"r{round}/{phase}");
}

/// <summary>The spec builder: a valid three-client, two-round FedCoLLM job; tests change what they need with <c>with</c>.</summary>
static class Specs
{
    public static readonly string[] Clients = ["alice", "bob", "carol"];

    public static JobSpec Default { get; } = new()
    {
        JobId = "job-1",
        ClientIds = Clients,
        Rounds = 2,
        Seed = 42,
        MinUpdates = 2,
        ClientTimeout = TimeSpan.FromMinutes(10),
        MaxRoundAttempts = 3,
        Definition = DefinitionWithTemperature(1),
    };

    /// <summary>A stand-in canonical job definition (the state machine only compares it).</summary>
    public static string DefinitionWithTemperature(double t) => "{\"id\":\"job-1\",\"distillation\":{\"lambda\":1,\"temperature\":" + t.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}";

    public static JobSpec FedAvg { get; } = Default with { Phases = new FedAvgStrategy().Phases };
}

static class Commands
{
    public static StepResult Result(params BlobRef[] outputs) => new(outputs, new Dictionary<string, double>());
    public static StepResult Result(BlobRef output, string metric, double value) => new([output], new Dictionary<string, double> { [metric] = value });

    public static CompleteStep Initialized() => new(0, RoundPhase.Initializing, Result(Blobs.InitialSlm, Blobs.InitialLlm));

    public static SubmitUpdate Update(int round, string client, long samples = 100, double loss = 1.5) =>
        new(round, client, Blobs.Update(round, client), samples, loss);

    public static CompleteStep Output(int round, RoundPhase phase) => new(round, phase, Result(Blobs.Output(round, phase)));

    public static CompleteStep Evaluated(int round, double slmAccuracy = 0.5) =>
        new(round, RoundPhase.Evaluating, new StepResult([], new Dictionary<string, double> { ["eval/slm_accuracy"] = slmAccuracy }));
}

/// <summary>
/// Folds <see cref="RoundState.Decide"/> + <see cref="RoundState.Apply"/> over commands, the way the ServerActor will:
/// every decision's events are applied and appended to <see cref="Journal"/>. The clock starts at <see cref="T0"/>
/// and ticks one second per command, so every event has its own timestamp.
/// </summary>
sealed class Federation
{
    public static readonly DateTimeOffset T0 = new(2025, 3, 1, 9, 0, 0, TimeSpan.Zero);

    public RoundState State { get; private set; } = RoundState.Empty;
    public DateTimeOffset Now { get; set; } = T0;
    public List<IRoundEvent> Journal { get; } = [];
    /// <summary><c>StatesAfter[i]</c> is the state right after <c>Journal[i]</c> was applied.</summary>
    public List<RoundState> StatesAfter { get; } = [];

    public RoundDecision Send(IRoundCommand command)
    {
        var decision = State.Decide(command, Now);
        foreach (var e in decision.Events)
        {
            State = State.Apply(e);
            Journal.Add(e);
            StatesAfter.Add(State);
        }
        Now += TimeSpan.FromSeconds(1);
        return decision;
    }

    /// <summary>Sends set-up commands that must all be accepted.</summary>
    public Federation Given(params IRoundCommand[] commands)
    {
        foreach (var c in commands)
        {
            var d = Send(c);
            Assert.True(d.Outcome == Outcome.Accepted, $"set-up command {c} was {d.Outcome}: {d.Detail}");
        }
        return this;
    }

    public static Federation Started(JobSpec? spec = null) => new Federation().Given(new StartJob(spec ?? Specs.Default));

    /// <summary>Started and initialized: round 1 is open for client updates.</summary>
    public static Federation InRound1(JobSpec? spec = null) => Started(spec).Given(Commands.Initialized());

    /// <summary>Completes the current phase the canonical way: every waiting client submits, each server step
    /// outputs <see cref="Blobs.Output"/>, the broadcast reaches every client.</summary>
    public Federation CompletePhase()
    {
        int r = State.Round;
        if (State.Phase == RoundPhase.Initializing) return Given(Commands.Initialized());
        return State.Plan!.RunBy switch
        {
            PhaseRunner.Clients => Given(State.Waiting.Select(c => (IRoundCommand)Commands.Update(r, c)).ToArray()),
            PhaseRunner.Broadcast => Given(new RecordBroadcast(r, State.Job!.ClientIds)),
            _ when State.Plan.Operation == Operations.Evaluate => Given(Commands.Evaluated(r)),
            _ => Given(Commands.Output(r, State.Phase)),
        };
    }

    /// <summary>Completes phases until the job is at <paramref name="phase"/> of <paramref name="round"/>.</summary>
    public Federation RunTo(int round, RoundPhase phase)
    {
        for (int guard = 0; !(State.Round == round && State.Phase == phase); guard++)
        {
            Assert.True(guard < 100 && State.IsRunning, $"never reached round {round} {phase}; stopped at round {State.Round} {State.Phase}");
            CompletePhase();
        }
        return this;
    }

    public Federation RunToEnd()
    {
        while (State.IsRunning) CompletePhase();
        return this;
    }

    /// <summary>Recovery: the journal replayed on an empty state, without any clock.</summary>
    public RoundState Replayed() => Journal.Aggregate(RoundState.Empty, (s, e) => s.Apply(e));
}

static class Describe
{
    /// <summary>A value-like rendering of the work a state calls for, with the clients it waits for (records that hold
    /// lists compare them by reference).</summary>
    public static string Work(RoundState state) => state.NextWork() switch
    {
        RunServerStep s => $"RunServerStep {Request(s.Request)}",
        RunAggregation a => $"RunAggregation {Request(a.Request)}",
        CollectUpdates c => $"CollectUpdates r{c.Round} a{c.Attempt} {c.GlobalSlm} [{string.Join(", ", state.Waiting)}] until {c.Deadline:O}",
        var w => w.ToString(),
    };

    static string Request(StepRequest r) =>
        $"{r.JobId} r{r.Round} {r.Phase} [{string.Join(", ", r.Inputs.Select(i => i.Sha256))}] seed {r.Seed} client {r.ClientId} samples [{string.Join(", ", r.SampleCounts ?? [])}]";

    public static string Metrics(IReadOnlyDictionary<string, double> m) =>
        string.Join(", ", m.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
}

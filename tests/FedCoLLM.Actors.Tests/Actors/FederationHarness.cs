using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;
using FedCoLLM.Actors.Serialization;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Federation;
using Microsoft.Data.Sqlite;

namespace FedCoLLM.Actors.Tests.Actors;

/// <summary>The actor specs share the process-wide TorchSharp gate and the CPU: run them one class at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FederationCollection
{
    public const string Name = "federation actors";
}

/// <summary>The built-in WordNet models and data, shrunk to a few examples and one optimizer step per phase.</summary>
static class Tiny
{
    public static readonly string RepoRoot = FindRepoRoot();
    public static readonly string[] TwoClients = ["noun.animal", "noun.plant"];

    static readonly Lazy<FederationSteps> SharedSteps = new(() => new FederationSteps(Setup()));

    /// <summary>One per process: it caches the loaded models; calls are serialized by its own lock.</summary>
    public static FederationSteps Steps => SharedSteps.Value;

    /// <summary>Every step's setup: the tiny models and data, with the local files taken as the job's.</summary>
    public static IJobSetups Setups => new FixedJobSetup(new JobSetup(Steps, Server, _ => null, () => null));

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FedCoLLM.Actors.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No FedCoLLM.Actors.sln above {AppContext.BaseDirectory}.");
    }

    static string Data => Path.Combine(RepoRoot, "data", "wordnet");

    public static FederationSetup Setup()
    {
        var models = Path.Combine(RepoRoot, "models");
        var setup = FederationSetup.Default(Path.Combine(models, "wordnet-slm"), Path.Combine(models, "wordnet-llm"),
            QaPromptFormat.Load(Path.Combine(Data, "prompt.json")));
        return (setup with
        {
            Compute = new ComputeOptions("cpu", 1, 7),
            MaxClientExamples = 8,
            MaxPublicExamples = 8,
            ClientTraining = setup.ClientTraining with { BatchSize = 4, MaxSteps = 1 },
            SlmDistillation = setup.SlmDistillation with { BatchSize = 4, MaxSteps = 1 },
            LlmDistillation = setup.LlmDistillation with { BatchSize = 4, MaxSteps = 1 },
        }).Validate();
    }

    public static ServerData Server => new(Path.Combine(Data, "public", "train.jsonl"),
        [new EvaluationSet("noun.animal", Path.Combine(Data, "clients", "noun.animal", "test.jsonl"))], MaxEvaluationItems: 8);

    public static LocalClient Client(string id) => new(id, Path.Combine(Data, "clients", id, "train.jsonl"));

    public static JobSpec Spec(string jobId, IReadOnlyList<string>? clients = null) => new JobSpec
    {
        JobId = jobId,
        ClientIds = clients ?? TwoClients,
        Rounds = 1,
        Seed = 7,
        MinUpdates = 1,
        ClientTimeout = TimeSpan.FromMinutes(2),
        MaxRoundAttempts = 2,
        Definition = "tiny",
    }.Validate();

    public static RetryPolicy FastRetries(int maxAttempts = 5) => new(maxAttempts, BaseDelaySeconds: 0.05, MaxDelaySeconds: 0.2);
}

/// <summary>A test's run directory: the SQLite journal file and the blob store, deleted at the end.</summary>
sealed class RunDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fedcollm-actors-" + Guid.NewGuid().ToString("N")[..12]);
    public string Journal => System.IO.Path.Combine(Path, "journal.db");
    public string Blobs => System.IO.Path.Combine(Path, "blobs");

    public RunDirectory()
    {
        Directory.CreateDirectory(Path);
        SqliteJournalFile.EnableWriteAheadLog(Journal);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Where a test node journals: the shipped persistence file and the values it needs.</summary>
sealed record JournalBackend(string Name, string File, Func<RunDirectory, string> Preamble)
{
    /// <summary>SQLite in the run directory, as `fedcollm run` does.</summary>
    public static readonly JournalBackend Sqlite = new("SQLite", "persistence-sqlite.conf",
        run => $"fedcollm.sqlite-file = \"{run.Journal.Replace("\\", "/")}\"");

    /// <summary>hocon/persistence-postgres.conf on the given database (in place of the FEDCOLLM_POSTGRES environment variable).</summary>
    public static JournalBackend Postgres(string connectionString) => new("PostgreSQL", "persistence-postgres.conf",
        _ => $"FEDCOLLM_POSTGRES = \"{connectionString.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"");
}

/// <summary>
/// One single-process cluster node composed like `fedcollm run` composes it (LocalCluster): the shipped hocon files,
/// a SQLite journal in the run directory, the Hyperion allow-list setup, and <see cref="FederationNode.Start"/>.
/// </summary>
sealed class TestNode : IAsyncDisposable
{
    public ActorSystem System { get; }
    public FederationNode Node { get; }
    bool terminated;

    /// <summary>Routes journal writes of the job entity to Akka.Persistence.TestKit's TestJournal (sharding stays on SQLite).</summary>
    public const string TestJournalHocon = """
        akka.persistence.journal.plugin = "akka.persistence.journal.test"
        akka.persistence.journal.test {
          class = "Akka.Persistence.TestKit.TestJournal, Akka.Persistence.TestKit"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        """;

    TestNode(ActorSystem system, FederationNode node)
    {
        System = system;
        Node = node;
    }

    public static TestNode Start(RunDirectory run, string jobId, IStepRunner runner, IEnumerable<string> clients,
        RetryPolicy? retries = null, string extraHocon = "", JournalBackend? journal = null, Func<string, LocalClient>? localClient = null)
    {
        journal ??= JournalBackend.Sqlite;
        var preamble = journal.Preamble(run);
        var files = new[] { "local.conf", "sharding.conf", "serialization.conf", journal.File };
        retries ??= Tiny.FastRetries();
        var config = ConfigurationFactory.ParseString(extraHocon + $$"""

            fedcollm.protocol.retry { max-attempts = {{retries.MaxAttempts}}, base-delay = {{retries.BaseDelaySeconds * 1000}}ms, max-delay = {{retries.MaxDelaySeconds * 1000}}ms }
            fedcollm.protocol.directory-poll = 200ms
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.cluster.sharding.entity-restart-backoff = 300ms
            akka.cluster.jmx.enabled = off
            """).WithFallback(FederationConfig.Load(files, preamble));
        var name = "fed-" + Guid.NewGuid().ToString("N")[..10];
        var system = ActorSystem.Create(name, BootstrapSetup.Create().WithConfig(config).And(WireTypes.Setup()));
        var node = FederationNode.Start(system, new NodeOptions(run.Blobs, runner) { Clients = clients.Select(localClient ?? Tiny.Client).ToArray() });
        return new TestNode(system, node);
    }

    /// <summary>The real step runner on the tiny setup, whatever job definition a step names (the specs here carry none).</summary>
    public static LearningStepRunner RealRunner(RunDirectory run) => new(Tiny.Setups, new DirectoryBlobStore(run.Blobs));

    public async Task<JobAccepted> StartJob(JobSpec spec) =>
        await Node.Servers.Ask<JobAccepted>(new StartFederation(spec.JobId, spec), TimeSpan.FromSeconds(30));

    public async Task<RoundState> Status(string jobId) =>
        (await Node.Servers.Ask<JobStatus>(new GetJobStatus(jobId), TimeSpan.FromSeconds(10))).State;

    /// <summary>Polls the job until <paramref name="done"/> holds; fails with the last state seen after <paramref name="within"/>.</summary>
    public async Task<RoundState> WaitFor(string jobId, Func<RoundState, bool> done, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        RoundState? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await Status(jobId);
                if (done(last)) return last;
            }
            catch (AskTimeoutException) { }
            await Task.Delay(100);
        }
        Assert.Fail($"Timed out after {within.TotalSeconds:F0} s waiting for {what}; last state: round {last?.Round} attempt {last?.Attempt} {last?.Phase} ({last?.FailureReason})");
        return last!;
    }

    public Task<RoundState> WaitForEnd(string jobId, TimeSpan? within = null) =>
        WaitFor(jobId, s => s.Phase.IsTerminal, within ?? TimeSpan.FromSeconds(60), "the job to end");

    /// <summary>The job's journal as stored (SQLite or PostgreSQL), read back with Akka.Persistence.Query.</summary>
    public async Task<IReadOnlyList<IRoundEvent>> JournalEvents(string jobId)
    {
        var journal = PersistenceQuery.Get(System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var envelopes = await journal.CurrentEventsByPersistenceId(FedCoLLM.Actors.Server.ServerActor.PersistenceIdPrefix + jobId, 0, long.MaxValue)
            .RunWith(Sink.Seq<EventEnvelope>(), System.Materializer());
        return envelopes.Select(e => (IRoundEvent)e.Event).ToArray();
    }

    /// <summary>A hard stop: no cluster leave, no graceful hand-off, like a killed process.</summary>
    public async Task Crash()
    {
        terminated = true;
        await System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (terminated) return;
        terminated = true;
        await System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
    }
}

/// <summary>Delegates to a real runner; throws for the first <see cref="FailuresLeft"/> calls of <see cref="Phase"/>,
/// can hold a phase until released, and records every request it was asked to run.</summary>
sealed class FlakyRunner(IStepRunner inner, RoundPhase phase, int failures) : IStepRunner
{
    int failuresLeft = failures;
    readonly ManualResetEventSlim release = new(true);
    public ConcurrentQueue<StepRequest> Calls { get; } = new();
    public RoundPhase Phase => phase;
    public int FailuresLeft => Volatile.Read(ref failuresLeft);
    public RoundPhase? HoldPhase { get; private set; }

    /// <summary>Blocks every step of <paramref name="hold"/> (cancellably) until <see cref="Release"/>.</summary>
    public FlakyRunner Hold(RoundPhase hold)
    {
        HoldPhase = hold;
        release.Reset();
        return this;
    }

    public void Release() => release.Set();

    public StepResult Run(StepRequest request, string? dataPath, IProgress<StepProgress> progress, CancellationToken cancellation)
    {
        Calls.Enqueue(request);
        if (request.Phase == HoldPhase) release.Wait(cancellation);
        if (request.Phase == phase && Interlocked.Decrement(ref failuresLeft) >= 0)
            throw new InvalidOperationException($"injected failure of {request.Phase} (round {request.Round})");
        return inner.Run(request, dataPath, progress, cancellation);
    }
}

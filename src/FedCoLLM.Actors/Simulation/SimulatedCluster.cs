using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Server;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FedCoLLM.Actors.Simulation;

/// <summary>Where a simulated federation journals: a SQLite file in its run directory, or a fresh PostgreSQL database
/// created (and dropped afterwards) on the server <see cref="PostgresAdmin"/> names, so a run never touches another's tables.</summary>
public sealed record SimulationJournal(string? PostgresAdmin = null)
{
    public static SimulationJournal Sqlite { get; } = new();
    public string Name => PostgresAdmin is null ? "sqlite" : "postgresql";
}

/// <summary>
/// A simulated federation in this process: two cluster nodes on loopback, composed by <see cref="FederationHost"/> as
/// <c>fedcollm run</c> and <c>fedcollm node</c> compose them — a server node (roles server and aggregator, the one
/// journal) and a client node hosting every client silo with a blob store of its own, so adapters really travel, in
/// chunks, over remoting — both running <see cref="SimulatedStepRunner"/>. Protocol timers are the shipped ones.
/// </summary>
public sealed class SimulatedCluster : IAsyncDisposable
{
    public FederationHost Server { get; }
    public FederationHost Clients { get; }
    public SimulatedStepRunner ServerRunner { get; }
    public SimulatedStepRunner ClientRunner { get; }
    public string Directory { get; }
    readonly string? database;
    readonly string? admin;
    readonly string? connectionString;

    SimulatedCluster(FederationHost server, FederationHost clients, SimulatedStepRunner serverRunner, SimulatedStepRunner clientRunner,
        string directory, string? database, string? admin, string? connectionString)
    {
        (Server, Clients, ServerRunner, ClientRunner, Directory) = (server, clients, serverRunner, clientRunner, directory);
        (this.database, this.admin, this.connectionString) = (database, admin, connectionString);
    }

    public static string JobId => "simulated";

    /// <summary>Starts the server node, then (after <paramref name="beforeClients"/>, e.g. a memory reading) the client node
    /// with <paramref name="clientIds"/>, and waits until both are Up.</summary>
    public static async Task<SimulatedCluster> StartAsync(string directory, SimulationJournal journal, IReadOnlyList<string> clientIds,
        SimulatedSizes sizes, TimeSpan clientCompute, TimeSpan serverCompute, TimeSpan timeout, Action? beforeClients = null)
    {
        System.IO.Directory.CreateDirectory(directory);
        string? database = null, connectionString = null;
        string persistence, preamble;
        if (journal.PostgresAdmin is { } admin)
        {
            database = "fedcollm_bench_" + Guid.NewGuid().ToString("N")[..12];
            await using (var connection = new NpgsqlConnection(admin))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
                await create.ExecuteNonQueryAsync();
            }
            connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString;
            persistence = "persistence-postgres.conf";
            preamble = $"FEDCOLLM_POSTGRES = \"{connectionString.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"";
        }
        else
        {
            var file = Path.Combine(directory, "journal.db");
            SqliteJournalFile.EnableWriteAheadLog(file);
            connectionString = $"Data Source={file}";
            persistence = "persistence-sqlite.conf";
            preamble = $"fedcollm.sqlite-file = \"{file.Replace("\\", "/")}\"";
        }
        var common = FederationConfig.Load(["local.conf", "sharding.conf", "serialization.conf", persistence], preamble);
        var serverConfig = ConfigurationFactory.ParseString("""
            akka.cluster.roles = [server, aggregator]
            akka.loglevel = WARNING
            """).WithFallback(common);
        var serverStore = new Blobs.DirectoryBlobStore(Path.Combine(directory, "server-blobs"));
        var serverRunner = new SimulatedStepRunner(serverStore, sizes, clientCompute, serverCompute);
        var server = FederationHost.Start(serverConfig, Path.Combine(directory, "server-blobs"), [], wrap: _ => serverRunner, setups: NoSetups.Instance);
        try
        {
            await UpAsync(server.System, timeout, "the server node");
            beforeClients?.Invoke();
            var seed = Cluster.Get(server.System).SelfAddress;
            var clientConfig = ConfigurationFactory.ParseString($"""
                akka.cluster.roles = [client]
                akka.cluster.seed-nodes = ["{seed}"]
                akka.loglevel = WARNING
                """).WithFallback(common);
            var clientStore = new Blobs.DirectoryBlobStore(Path.Combine(directory, "client-blobs"));
            var clientRunner = new SimulatedStepRunner(clientStore, sizes, clientCompute, serverCompute);
            // Client data never reaches a simulated step; the path only names the silo's (absent) private file.
            var locals = clientIds.Select(id => new LocalClient(id, Path.Combine(directory, "client-data", id))).ToArray();
            var clients = FederationHost.Start(clientConfig, Path.Combine(directory, "client-blobs"), locals, wrap: _ => clientRunner, setups: NoSetups.Instance);
            await UpAsync(clients.System, timeout, "the client node");
            return new SimulatedCluster(server, clients, serverRunner, clientRunner, directory, database, journal.PostgresAdmin, connectionString);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Submits <paramref name="spec"/> on the server node; throws unless it is accepted.</summary>
    public async Task SubmitAsync(JobSpec spec)
    {
        var accepted = await Server.Node.Servers.Ask<JobAccepted>(new StartFederation(spec.JobId, spec), TimeSpan.FromSeconds(60));
        if (accepted.Outcome != Outcome.Accepted)
            throw new InvalidOperationException($"The simulated job {spec.JobId} was not accepted: {accepted.Outcome} {accepted.Detail}");
    }

    public async Task<RoundState> StatusAsync(string jobId) =>
        (await Server.Node.Servers.Ask<JobStatus>(new GetJobStatus(jobId), TimeSpan.FromSeconds(60))).State;

    /// <summary>Polls until <paramref name="done"/> holds; throws naming the last state after <paramref name="timeout"/>.</summary>
    public async Task<RoundState> WaitForAsync(string jobId, Func<RoundState, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        RoundState? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await StatusAsync(jobId);
                if (done(last)) return last;
            }
            catch (AskTimeoutException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:F0} s waiting for {what}; last state: round {last?.Round} attempt {last?.Attempt} {last?.Phase}, " +
            $"{last?.Updates.Count} updates ({last?.FailureReason}).");
    }

    /// <summary>The job's journaled events with their sequence numbers, read back with Akka.Persistence.Query.</summary>
    public async Task<IReadOnlyList<(long SequenceNr, IRoundEvent Event)>> EventsAsync(string jobId)
    {
        var journal = PersistenceQuery.Get(Server.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var envelopes = await journal.CurrentEventsByPersistenceId(ServerActor.PersistenceIdPrefix + jobId, 0, long.MaxValue)
            .RunWith(Sink.Seq<EventEnvelope>(), Server.System.Materializer());
        return envelopes.Select(e => (e.SequenceNr, (IRoundEvent)e.Event)).ToArray();
    }

    /// <summary>Stored bytes of each journaled event of the job (the serialized payload, as the database keeps it), by sequence number.</summary>
    public async Task<IReadOnlyDictionary<long, long>> EventBytesAsync(string jobId)
    {
        var sizes = new Dictionary<long, long>();
        await QueryAsync("SELECT sequence_number, length(message) FROM journal WHERE persistence_id = @id", jobId, r => sizes[r.GetInt64(0)] = r.GetInt64(1));
        return sizes;
    }

    /// <summary>Snapshots the job entity has stored.</summary>
    public async Task<long> SnapshotCountAsync(string jobId)
    {
        long count = 0;
        await QueryAsync("SELECT count(*) FROM snapshot WHERE persistence_id = @id", jobId, r => count = r.GetInt64(0));
        return count;
    }

    async Task QueryAsync(string sql, string jobId, Action<System.Data.Common.DbDataReader> row)
    {
        System.Data.Common.DbConnection connection = admin is null ? new SqliteConnection(connectionString) : new NpgsqlConnection(connectionString);
        await using (connection)
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            var parameter = command.CreateParameter();
            parameter.ParameterName = "id";
            parameter.Value = ServerActor.PersistenceIdPrefix + jobId;
            command.Parameters.Add(parameter);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) row(reader);
        }
    }

    static async Task UpAsync(ActorSystem system, TimeSpan timeout, string what)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        if (await Task.WhenAny(up.Task, Task.Delay(timeout)) != up.Task)
            throw new TimeoutException($"{what} of the simulated federation did not become an Up cluster member within {timeout.TotalSeconds:F0} s.");
    }

    public async ValueTask DisposeAsync()
    {
        await Clients.DisposeAsync();
        await Server.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (database is not null && admin is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Simulated steps read no job setup: a step that asks for one is a bug in the simulation.</summary>
    sealed class NoSetups : Workers.IJobSetups
    {
        public static readonly NoSetups Instance = new();
        public Workers.JobSetup For(StepRequest request) =>
            throw new InvalidOperationException($"{request}: the simulated federation has no job setup; its steps run on SimulatedStepRunner.");
    }
}

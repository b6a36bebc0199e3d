using Npgsql;

namespace FedCoLLM.Tests.Shared;

/// <summary>
/// PostgreSQL for the tests. FEDCOLLM_POSTGRES names a server and a role allowed to create databases (.ci/run sets
/// one up). Unset locally: the PostgreSQL tests are skipped, saying so. Unset in CI (CI=true, or
/// FEDCOLLM_REQUIRE_POSTGRES=1 as .ci/run exports): they fail, naming the variable; they never pass silently.
/// </summary>
static class Postgres
{
    public const string Variable = "FEDCOLLM_POSTGRES";

    public static string? ConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } v ? v : null;

    public static bool Required => Requirement.InCi("FEDCOLLM_REQUIRE_POSTGRES");

    public static string SkipReason => $"{Variable} is not set (an Npgsql connection string for a role with CREATEDB); PostgreSQL tests skipped. .ci/run sets it up.";

    /// <summary>Null when the tests may run; the skip reason when they may be skipped; throws when they must not be.</summary>
    public static string? Unavailable()
    {
        if (ConnectionString is not null) return null;
        if (Required)
            throw new InvalidOperationException($"{Variable} is not set, but this is a CI run (CI=true or FEDCOLLM_REQUIRE_POSTGRES=1): the PostgreSQL tests must run. Set {Variable} to an Npgsql connection string (see .ci/run).");
        return SkipReason;
    }
}

/// <summary>A fresh database for one test (fedcollm_test_&lt;guid&gt;), dropped on dispose.</summary>
sealed class PostgresDatabase : IDisposable
{
    public string Name { get; } = "fedcollm_test_" + Guid.NewGuid().ToString("N")[..12];
    public string ConnectionString { get; }
    readonly string admin;

    public PostgresDatabase()
    {
        admin = Postgres.ConnectionString ?? throw new InvalidOperationException($"{Postgres.Variable} is not set.");
        using (var connection = new NpgsqlConnection(admin))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE \"{Name}\"", connection);
            command.ExecuteNonQuery();
        }
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = Name, Pooling = false }.ConnectionString;
    }

    /// <summary>Row count of a table in this database (e.g. to check which tables the plugins created).</summary>
    /// <summary>Rows of <paramref name="table"/>, or only those of one persistence id (the journal also holds the job
    /// directory's events).</summary>
    public long Count(string table, string? persistenceId = null)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\"" + (persistenceId is null ? "" : " WHERE persistence_id = @id"), connection);
        if (persistenceId is not null) command.Parameters.AddWithValue("id", persistenceId);
        return Convert.ToInt64(command.ExecuteScalar());
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        using var connection = new NpgsqlConnection(admin);
        connection.Open();
        using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        command.ExecuteNonQuery();
    }
}

using FedCoLLM.Tests.Shared;

namespace FedCoLLM.Actors.Tests.Actors;

/// <summary>
/// One spec, two providers: a persistence spec derives from this and runs once on SQLite (the single-process default)
/// and once on PostgreSQL (the multi-process journal), each PostgreSQL test on a database of its own that is dropped
/// afterwards. Without FEDCOLLM_POSTGRES the PostgreSQL variants are skipped locally and fail in CI (tests/Shared/Postgres.cs).
/// </summary>
public abstract class JournalProviderSpec : IDisposable
{
    PostgresDatabase? database;

    private protected abstract bool OnPostgres { get; }

    /// <summary>The backend for this test; on PostgreSQL creates the test's database (or skips / fails, see above).</summary>
    private protected JournalBackend Journal()
    {
        if (!OnPostgres) return JournalBackend.Sqlite;
        if (Postgres.Unavailable() is { } reason) Assert.Skip(reason);
        database ??= new PostgresDatabase();
        return JournalBackend.Postgres(database.ConnectionString);
    }

    /// <summary>Rows in a table of the test's PostgreSQL database (null on SQLite).</summary>
    private protected long? PostgresRows(string table, string? persistenceId = null) => database?.Count(table, persistenceId);

    public void Dispose()
    {
        database?.Dispose();
        GC.SuppressFinalize(this);
    }
}

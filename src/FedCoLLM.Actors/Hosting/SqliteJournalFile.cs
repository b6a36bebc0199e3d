using Microsoft.Data.Sqlite;

namespace FedCoLLM.Actors.Hosting;

/// <summary>The SQLite file that holds a single-process run's journal (hocon/persistence-sqlite.conf).</summary>
public static class SqliteJournalFile
{
    /// <summary>Creates the file if needed and switches it to WAL, which lets the journal and snapshot plugins read
    /// while the other writes; the mode is stored in the file, so this is done once per file.</summary>
    public static void EnableWriteAheadLog(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }
}

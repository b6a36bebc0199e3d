using System.Runtime.Serialization;
using FedCoLLM.Actors.Serialization;
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

    /// <summary>
    /// Null when every event and snapshot of our serializer in the file can be read by this build; else a message naming
    /// the file and the first record it cannot read (a journal written by a newer FedCoLLM, or damaged). Checked before a
    /// run resumes from the file: Akka would otherwise fail the job entity's recovery and restart it over and over.
    /// </summary>
    public static string? Unreadable(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly");
            connection.Open();
            foreach (var (table, payload, serializer) in new[] { ("journal", "message", "identifier"), ("snapshot", "snapshot", "serializer_id") })
            {
                if (!HasTable(connection, table)) continue;
                using var command = connection.CreateCommand();
                // One record per manifest is enough: a manifest this build knows is read the same way in every row.
                command.CommandText = $"SELECT manifest, {payload} FROM {table} WHERE {serializer} = $id AND rowid IN (SELECT min(rowid) FROM {table} WHERE {serializer} = $id GROUP BY manifest)";
                command.Parameters.AddWithValue("$id", RoundEventSerializer.SerializerId);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    var manifest = reader.GetString(0);
                    try { RoundEventSerializer.Read((byte[])reader[1], manifest); }
                    catch (SerializationException e)
                    {
                        return $"Journal {path} cannot be resumed by this build: its {table} table holds a record \"{manifest}\" it cannot read ({e.Message}). " +
                               "Use the FedCoLLM version that wrote it, or start afresh under another --out directory.";
                    }
                }
            }
            return null;
        }
        catch (SqliteException e)
        {
            return $"Journal {path} is not a readable SQLite journal ({e.Message}); start afresh under another --out directory, or restore the file.";
        }
    }

    static bool HasTable(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $name";
        command.Parameters.AddWithValue("$name", table);
        return Convert.ToInt64(command.ExecuteScalar()) > 0;
    }
}

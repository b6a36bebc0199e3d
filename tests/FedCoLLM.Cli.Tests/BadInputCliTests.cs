using System.Diagnostics;
using FedCoLLM.Actors.Serialization;
using Microsoft.Data.Sqlite;

namespace FedCoLLM.Cli.Tests;

/// <summary>Bad input as a new user meets it, through the real `fedcollm` process: it fails at once and says which file,
/// which line and which section.</summary>
[Collection(ChildProcesses.Name)]
public sealed class BadInputCliTests
{
    static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Run_with_a_config_whose_block_is_not_closed_fails_at_once_naming_file_line_and_section()
    {
        using var dir = new TempDir();
        var bad = Path.Combine(dir.Path, "bad.conf");
        var local = File.ReadAllText(Path.Combine(Repository.Root, "hocon", "local.conf"));
        // The cluster block's closing brace is gone: Akka's parser alone accepts this and the node then waits a minute
        // for a shard coordinator ("No coordinator found to register") before timing out.
        File.WriteAllText(bad, local.Replace("    failure-detector.acceptable-heartbeat-pause = 30s\n  }", "    failure-detector.acceptable-heartbeat-pause = 30s"));
        int line = local.Split('\n').ToList().FindIndex(l => l.TrimStart().StartsWith("cluster {", StringComparison.Ordinal)) + 1;

        var clock = Stopwatch.StartNew();
        var (code, output) = await Fedcollm.Run(Fedcollm.StartInfo(["run", "--quick", "--config", bad, "--out", Path.Combine(dir.Path, "out")]), AtOnce);

        Assert.True(code == 2, output);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.Contains($"{bad}:{line}: section akka.cluster {{", output.Replace("\n", ""));
        Assert.DoesNotContain("No coordinator", output);
        Assert.False(File.Exists(Path.Combine(dir.Path, "out", "journal.db")), "a refused configuration must leave no journal behind");
    }

    [Fact]
    public async Task Run_with_a_config_that_lacks_the_cluster_sections_fails_at_once_naming_the_missing_one()
    {
        using var dir = new TempDir();
        var thin = Path.Combine(dir.Path, "thin.conf");
        File.WriteAllText(thin, "akka.loglevel = INFO\n");

        var (code, output) = await Fedcollm.Run(Fedcollm.StartInfo(["run", "--quick", "--config", thin, "--out", Path.Combine(dir.Path, "out")]), AtOnce);

        Assert.True(code == 2, output);
        Assert.Contains("akka.actor.provider", output);
        Assert.Contains("thin.conf", output);
    }

    [Fact]
    public async Task Resuming_from_a_journal_written_by_a_newer_version_fails_at_once_naming_the_file_and_record()
    {
        using var dir = new TempDir();
        var outDir = Path.Combine(dir.Path, "out");
        Directory.CreateDirectory(outDir);
        var journal = Path.Combine(outDir, "journal.db");
        using (var connection = new SqliteConnection($"Data Source={journal}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            // Akka.Persistence.Sql's SQLite journal table, with one event under a manifest no build of today writes.
            command.CommandText = """
                CREATE TABLE journal (ordering INTEGER PRIMARY KEY AUTOINCREMENT, deleted INTEGER NOT NULL, persistence_id TEXT NOT NULL,
                  sequence_number INTEGER NOT NULL, created INTEGER NOT NULL, tags TEXT, message BLOB NOT NULL, identifier INTEGER,
                  manifest TEXT NOT NULL, writer_uuid TEXT);
                INSERT INTO journal (deleted, persistence_id, sequence_number, created, message, identifier, manifest, writer_uuid)
                VALUES (0, 'federation-job-wordnet-quick', 1, 0, $message, $id, 'job-started/v3', 'w');
                """;
            command.Parameters.AddWithValue("$message", "{}"u8.ToArray());
            command.Parameters.AddWithValue("$id", RoundEventSerializer.SerializerId);
            command.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();

        var (code, output) = await Fedcollm.Run(Fedcollm.StartInfo(["run", "--quick", "--out", outDir]), AtOnce);

        Assert.True(code == 2, output);
        var flat = output.Replace("\n", "");
        Assert.Contains(journal, flat);
        Assert.Contains("job-started/v3", flat);
        Assert.Contains("newer", flat);
    }
}

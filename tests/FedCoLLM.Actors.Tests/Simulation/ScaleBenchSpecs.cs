using System.Text.Json;
using FedCoLLM.Actors.Simulation;
using FedCoLLM.Actors.Tests.Actors;
using Microsoft.Data.Sqlite;

namespace FedCoLLM.Actors.Tests.Simulation;

/// <summary>
/// `fedcollm bench scale` end to end at 50 clients on SQLite: two cluster nodes, the real actors, journal, blob stores
/// and transfers with simulated steps. The bench's JSON must be sane, and the journal itself (read here with SQLite, not
/// through the bench) must hold exactly one accepted update per client per round.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class ScaleBenchSpecs
{
    const int Clients = 50, Rounds = 2;

    [Fact]
    public async Task Fifty_clients_commit_every_round_with_exactly_one_update_each_and_sane_figures()
    {
        using var run = new RunDirectory();
        var rows = await ScaleBench.RunAsync(new ScaleBench.Settings([Clients], Rounds, run.Path) { TimeoutPerCount = TimeSpan.FromMinutes(3) });

        var json = JsonSerializer.Serialize(rows, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
        var row = JsonDocument.Parse(json).RootElement[0];
        Assert.True(row.GetProperty("finished").GetBoolean(), row.GetProperty("problem").ToString());
        Assert.Equal(Clients, row.GetProperty("clients").GetInt32());
        Assert.Equal(Rounds, row.GetProperty("rounds_committed").GetInt32());
        var seconds = row.GetProperty("round_seconds").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(Rounds, seconds.Length);
        Assert.All(seconds, s => Assert.InRange(s, 0.001, 180));
        Assert.True(row.GetProperty("exactly_once").GetBoolean());
        // 50 accepted updates, 5 phase completions, the broadcast and the commit per round, and the client node's download
        // reports (its silos share one store, so one report per adapter it fetched: the broadcast, in round 1 also the
        // initial adapter and the job definition), plus once per job every client's report of the final download (made
        // even when it moved nothing, so the job's report knows all have it; they may land after the last commit).
        const double finalDownloadsPerRound = Clients / (double)Rounds;
        Assert.InRange(row.GetProperty("journal_rows_per_round").GetDouble(), Clients + 7, Clients + 7 + finalDownloadsPerRound + 2.5);
        Assert.InRange(row.GetProperty("journal_bytes_per_update").GetDouble(), 50, 4096);
        Assert.Equal(Rounds, row.GetProperty("snapshots_taken").GetInt64());
        Assert.True(row.GetProperty("heap_bytes_after_job").GetInt64() > 0);
        // Every update crosses between the nodes, and each round's global adapter once: the client node's silos share its
        // store, and concurrent fetches of one blob from one holder are one transfer (BlobCustody).
        Assert.True(row.GetProperty("bytes_fetched").GetInt64() >= (Clients + 1L) * Rounds * 32 * 1024, "every update and each round's global adapter crosses between the nodes");

        var with = row.GetProperty("recovery_with_snapshots").EnumerateArray().ToArray();
        var without = row.GetProperty("recovery_without_snapshots").EnumerateArray().ToArray();
        Assert.Equal(Rounds, with.Length);
        for (int n = 0; n < Rounds; n++)
        {
            // From the snapshot taken at round n's commit nothing is left to replay; without it, every event up to there.
            Assert.True(with[n].GetProperty("used_snapshot").GetBoolean());
            Assert.Equal(0, with[n].GetProperty("events_replayed").GetInt64());
            Assert.False(without[n].GetProperty("used_snapshot").GetBoolean());
            Assert.Equal(with[n].GetProperty("to_sequence_nr").GetInt64(), without[n].GetProperty("events_replayed").GetInt64());
            Assert.Equal(n + 1 == Rounds ? "Completed" : "ClientsTraining", with[n].GetProperty("phase").GetString());
            Assert.Equal(without[n].GetProperty("round").GetInt32(), with[n].GetProperty("round").GetInt32());
        }

        // Exactly once, read from the journal file itself.
        var accepted = new List<(int Round, string Client)>();
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(run.Path, "k50-sqlite", "journal.db")};Mode=ReadOnly"))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT message FROM journal WHERE persistence_id = 'federation-job-simulated' AND manifest LIKE 'client-update-accepted/%'";
            await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                using var e = JsonDocument.Parse(reader.GetString(0));
                accepted.Add((e.RootElement.GetProperty("Round").GetInt32(), e.RootElement.GetProperty("ClientId").GetString()!));
            }
        }
        Assert.Equal(Clients * Rounds, accepted.Count);
        Assert.Equal(Clients * Rounds, accepted.Distinct().Count());
        Assert.Equal(SimulatedJob.ClientIds(Clients).Order(StringComparer.Ordinal), accepted.Where(a => a.Round == 1).Select(a => a.Client).Order(StringComparer.Ordinal));
    }
}

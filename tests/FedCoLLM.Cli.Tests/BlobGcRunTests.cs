using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// Blob GC end to end (child process of the real binary): one `fedcollm run` of a 1-round and a 2-round job. After the
/// jobs end, the run's blob store holds exactly what each job keeps (its definition, its final adapters and its last
/// round's updates, read from the journal), the same number of bytes for both jobs whatever their rounds, and
/// `fedcollm audit` still holds for both, recomputing the last round's aggregate and naming what GC removed.
/// </summary>
[Collection(ChildProcesses.Name)]
public class BlobGcRunTests
{
    [Fact]
    public async Task After_a_run_the_store_holds_only_what_each_job_keeps_and_audit_still_holds()
    {
        using var dir = new TempDir();
        var runDir = Path.Combine(dir.Path, "run");
        var one = TestJobs.Write(dir.Path, "gc-1", [.. TestJobs.Small, "job.id = gc-1", "job.rounds = 1"]);
        var two = TestJobs.Write(dir.Path, "gc-2", [.. TestJobs.Small, "job.id = gc-2", "job.rounds = 2"]);
        var (code, output) = await Fedcollm.Run(["run", one, two, "--out", runDir]);
        Assert.True(code == 0, output);
        Assert.Contains("blob GC: removed", output);

        var kept1 = Kept(runDir, "gc-1", rounds: 1);
        var kept2 = Kept(runDir, "gc-2", rounds: 2);
        var stored = Directory.EnumerateFiles(Path.Combine(runDir, "blobs"), "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetFileName(f), f => new FileInfo(f).Length);
        Assert.Equal(kept1.Keys.Union(kept2.Keys).Order(StringComparer.Ordinal), stored.Keys.Order(StringComparer.Ordinal));
        // Bounded: two rounds keep what one round keeps (same shapes; the definitions differ only in id and rounds).
        Assert.Equal(kept1.Values.Sum(), kept2.Values.Sum());

        foreach (var job in new[] { "gc-1", "gc-2" })
        {
            (code, output) = await Fedcollm.Run(["audit", job, "--out", runDir, "--allow-unsigned"]);
            Assert.True(code == 0, output);
            // The last round's aggregate at least (gc-2's first round may be recomputed too: its updates are the same
            // bytes as gc-1's, which gc-1 keeps).
            var recomputed = System.Text.RegularExpressions.Regex.Match(output, @"recomputed (\d+) aggregates");
            Assert.True(recomputed.Success && int.Parse(recomputed.Groups[1].Value) >= 1, output);
        }
        Assert.Contains("removed by blob GC", output); // gc-2's intermediate blobs (its teacher logits at least)
    }

    /// <summary>sha256 → size of what GC keeps of <paramref name="jobId"/>: the definition and final adapters from its
    /// report, and its last round's accepted updates from the journal.</summary>
    static Dictionary<string, long> Kept(string runDir, string jobId, int rounds)
    {
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, jobId, "report.json")))!;
        var kept = new Dictionary<string, long>();
        void Add(string sha) => kept[sha] = new FileInfo(Path.Combine(runDir, "blobs", sha[..2], sha)).Length;
        Add(report["spec_sha256"]!.GetValue<string>());
        Add(report["final"]!["slm_adapter_sha256"]!.GetValue<string>());
        Add(report["final"]!["llm_adapter_sha256"]!.GetValue<string>());
        using var connection = new SqliteConnection($"Data Source={Path.Combine(runDir, "journal.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var read = connection.CreateCommand();
        read.CommandText = $"SELECT message FROM journal WHERE persistence_id = 'federation-job-{jobId}' AND manifest LIKE 'client-update-accepted%'";
        using var rows = read.ExecuteReader();
        var updates = 0;
        while (rows.Read())
        {
            var e = JsonNode.Parse(System.Text.Encoding.UTF8.GetString((byte[])rows[0]))!;
            if (e["Round"]!.GetValue<int>() != rounds) continue;
            Add(e["Update"]!["Sha256"]!.GetValue<string>());
            updates++;
        }
        Assert.Equal(2, updates);
        return kept;
    }
}

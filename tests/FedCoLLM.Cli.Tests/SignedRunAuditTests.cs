using Microsoft.Data.Sqlite;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// The identity commands end to end, as a user runs them (child processes of the real binary): `fedcollm keys new` for
/// each client of the small quick job, the job file enrolling the printed keys, `fedcollm run` (the local silos sign with
/// the keys under --out/keys), then `fedcollm audit`: exit 0 on the untouched journal, exit 1 naming the edited row
/// after a journal row is edited.
/// </summary>
[Collection(ChildProcesses.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes
public class SignedRunAuditTests
{
    [Fact]
    public async Task A_signed_run_audits_clean_and_an_edited_journal_row_is_named()
    {
        using var dir = new TempDir();
        var runDir = Path.Combine(dir.Path, "run");
        var keys = Path.Combine(runDir, "keys");
        var enrolled = new List<string>();
        foreach (var client in new[] { "noun.animal", "noun.plant" })
        {
            var (made, said) = await Fedcollm.Run(["keys", "new", "--client-id", client, "--out", keys]);
            Assert.True(made == 0, said);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(keys, client + ".key")));
            enrolled.Add($"{{ id = \"{client}\", key = \"{File.ReadAllText(Path.Combine(keys, client + ".pub")).Trim()}\" }}");
        }
        var (again, refusal) = await Fedcollm.Run(["keys", "new", "--client-id", "noun.plant", "--out", keys]);
        Assert.Equal(2, again);
        Assert.Contains("a client's key is made once", refusal);

        var job = TestJobs.Write(dir.Path, "signed", [.. TestJobs.Small, "job.id = signed", $"job.clients.public-keys = [{string.Join(", ", enrolled)}]"]);
        var (code, output) = await Fedcollm.Run(["run", job, "--out", runDir]);
        Assert.True(code == 0, output);

        (code, output) = await Fedcollm.Run(["audit", "signed", "--out", runDir]);
        Assert.True(code == 0, output);
        Assert.Contains("verified 2 update signatures, recomputed 1 aggregates", output);
        Assert.Contains("The ledger of job signed holds.", output);

        var row = EditUpdateRow(Path.Combine(runDir, "journal.db"), "noun.animal");
        (code, output) = await Fedcollm.Run(["audit", "signed", "--out", runDir]);
        Assert.True(code == 1, output);
        Assert.Contains($"BROKEN: event #{row} (ClientUpdateAccepted)", output);
        Assert.Contains("the signature on the update of noun.animal", output);
    }

    /// <summary>Doubles n_k in the journaled update of <paramref name="client"/>, as someone with write access to the journal could; returns its sequence number.</summary>
    static long EditUpdateRow(string journal, string client)
    {
        using var connection = new SqliteConnection($"Data Source={journal};Pooling=False");
        connection.Open();
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT sequence_number, message FROM journal WHERE persistence_id = 'federation-job-signed' AND manifest LIKE 'client-update-accepted%'";
        using var rows = read.ExecuteReader();
        while (rows.Read())
        {
            var json = System.Text.Encoding.UTF8.GetString((byte[])rows[1]);
            if (!json.Contains($"\"ClientId\":\"{client}\"")) continue;
            var sequence = rows.GetInt64(0);
            var edited = System.Text.RegularExpressions.Regex.Replace(json, "\"SampleCount\":(\\d+)", m => $"\"SampleCount\":{long.Parse(m.Groups[1].Value) * 2}");
            Assert.NotEqual(json, edited);
            using var write = connection.CreateCommand();
            write.CommandText = "UPDATE journal SET message = $m WHERE persistence_id = 'federation-job-signed' AND sequence_number = $s";
            write.Parameters.AddWithValue("$m", System.Text.Encoding.UTF8.GetBytes(edited));
            write.Parameters.AddWithValue("$s", sequence);
            Assert.Equal(1, write.ExecuteNonQuery());
            return sequence;
        }
        Assert.Fail($"no accepted update of {client} in {journal}");
        return 0;
    }
}

using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Identity;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Tests.Actors;
using Microsoft.Data.Sqlite;

namespace FedCoLLM.Actors.Tests.Identity;

/// <summary>
/// A real single-process node (SQLite journal, the tiny models, real training) running a job that enrols client keys:
/// two silos sign with their enrolled keys, a third holds another key than the one enrolled for it. The impostor's
/// update is refused and nothing of it is journaled; the job completes on the quorum; <c>fedcollm audit</c>'s
/// verification holds on the journal, and names the first broken link after a blob is edited and, separately, after a
/// journal row is edited.
/// </summary>
[Collection(FederationCollection.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes
public sealed class SignedLedgerSpecs
{
    static readonly string[] Clients = ["noun.animal", "noun.food", "noun.plant"];
    const string Impostor = "noun.food";

    [Fact]
    public async Task A_client_with_the_wrong_key_is_refused_and_the_audit_detects_an_edited_blob_and_an_edited_journal_row()
    {
        using var run = new RunDirectory();
        var keys = Path.Combine(run.Path, "keys");
        var enrolled = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var client in Clients) enrolled[client] = ClientKeyFiles.New(keys, client);
        // The impostor's node holds a valid key, but not the one the job enrols for it.
        File.Delete(ClientKeyFiles.PrivatePath(keys, Impostor));
        File.Delete(ClientKeyFiles.PublicPath(keys, Impostor));
        ClientKeyFiles.New(keys, Impostor);
        var spec = (Tiny.Spec("signed", Clients) with
        {
            ClientKeys = enrolled,
            MinUpdates = 2,
            ClientTimeout = TimeSpan.FromSeconds(30),
            MaxRoundAttempts = 3,
        }).Validate();

        await using (var node = TestNode.Start(run, spec.JobId, TestNode.RealRunner(run), Clients,
                         extraHocon: $"{FederationNode.KeysDirectoryKey} = \"{keys.Replace("\\", "/")}\""))
        {
            Assert.Equal(Outcome.Accepted, (await node.StartJob(spec)).Outcome);
            var end = await node.WaitForEnd(spec.JobId, TimeSpan.FromMinutes(4));
            Assert.Equal(RoundPhase.Completed, end.Phase);
            var events = await node.JournalEvents(spec.JobId);
            var updates = events.OfType<ClientUpdateAccepted>().ToArray();
            Assert.Equal(["noun.animal", "noun.plant"], updates.Select(u => u.ClientId).Order(StringComparer.Ordinal));
            Assert.All(updates, u => Assert.NotNull(u.Signature));
            Assert.DoesNotContain(events, e => e is ClientUpdateAccepted { ClientId: Impostor });
            Assert.Contains(Impostor, events.OfType<TrainingClosed>().Last().Missing);
        }

        var config = FederationConfig.Load(["serialization.conf", "persistence-sqlite.conf"], $"fedcollm.sqlite-file = \"{run.Journal.Replace("\\", "/")}\"");
        var blobs = new DirectoryBlobStore(run.Blobs);
        async Task<LedgerReport> Audit() => LedgerAudit.Verify(await JournalLedger.Read(config, spec.JobId, TestContext.Current.CancellationToken), blobs);

        var clean = await Audit();
        Assert.True(clean.Holds, clean.Broken?.ToString());
        Assert.True(clean.Signed);
        Assert.Equal(2, clean.SignaturesVerified);
        Assert.Equal(1, clean.AggregatesRecomputed);

        // Tampering 1: one byte of an accepted update's blob.
        var entries = await JournalLedger.Read(config, spec.JobId, TestContext.Current.CancellationToken);
        var plantUpdate = entries.Select(e => e.Event).OfType<ClientUpdateAccepted>().Single(u => u.ClientId == "noun.plant");
        var path = blobs.PathOf(plantUpdate.Update);
        var original = File.ReadAllBytes(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var edited = original.ToArray();
        edited[^1] ^= 0x01;
        File.WriteAllBytes(path, edited);
        var blobBroken = (await Audit()).Broken;
        Assert.NotNull(blobBroken);
        // Named at the first event that names this blob (with one tiny step from a zero LoRA B, the update can equal the
        // initial adapter byte for byte).
        Assert.Contains(plantUpdate.Update.ToString(), blobBroken.Problem);
        Assert.Contains("the blob was altered", blobBroken.Problem);
        File.WriteAllBytes(path, original);
        Assert.True((await Audit()).Holds);

        // Tampering 2: the journal row of that update, its n_k inflated (its FedAvg weight) after it was signed.
        var row = entries.Single(e => e.Event is ClientUpdateAccepted { ClientId: "noun.plant" });
        EditJournalRow(run.Journal, spec.JobId, row.SequenceNr, $"\"SampleCount\":{plantUpdate.SampleCount},", $"\"SampleCount\":{plantUpdate.SampleCount * 10},");
        var rowBroken = (await Audit()).Broken;
        Assert.NotNull(rowBroken);
        Assert.Equal(row.SequenceNr, rowBroken.SequenceNr);
        Assert.Contains("signature on the update of noun.plant", rowBroken.Problem);
    }

    /// <summary>Rewrites one event's JSON in the SQLite journal table, as someone with write access to the database could.</summary>
    static void EditJournalRow(string journal, string jobId, long sequenceNr, string from, string to)
    {
        SqliteConnection.ClearAllPools();
        using var connection = new SqliteConnection($"Data Source={journal}");
        connection.Open();
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT message FROM journal WHERE persistence_id = $id AND sequence_number = $seq";
        read.Parameters.AddWithValue("$id", "federation-job-" + jobId);
        read.Parameters.AddWithValue("$seq", sequenceNr);
        var json = System.Text.Encoding.UTF8.GetString((byte[])read.ExecuteScalar()!);
        Assert.Contains(from, json);
        using var write = connection.CreateCommand();
        write.CommandText = "UPDATE journal SET message = $message WHERE persistence_id = $id AND sequence_number = $seq";
        write.Parameters.AddWithValue("$message", System.Text.Encoding.UTF8.GetBytes(json.Replace(from, to)));
        write.Parameters.AddWithValue("$id", "federation-job-" + jobId);
        write.Parameters.AddWithValue("$seq", sequenceNr);
        Assert.Equal(1, write.ExecuteNonQuery());
    }
}

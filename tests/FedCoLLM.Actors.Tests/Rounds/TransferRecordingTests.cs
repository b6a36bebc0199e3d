using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Serialization;

namespace FedCoLLM.Actors.Tests.Rounds;

/// <summary>The job's record of measured communication (<see cref="RoundState.Transfers"/>): numbers the transfer layer
/// measured, folded in from the events that carry them; downloads are reported by clients, in any phase, once each.</summary>
public class TransferRecordingTests
{
    static readonly TransferCount Moved = new(1234, 1, 1);

    static Federation CompletedJob()
    {
        var f = new Federation();
        f.Send(new StartJob(Specs.Default with { Rounds = 1 }));
        f.Send(Commands.Initialized());
        foreach (var c in Specs.Clients) f.Send(Commands.Update(1, c) with { Upload = Moved });
        f.Send(Commands.Output(1, RoundPhase.Aggregating));
        f.Send(Commands.Output(1, RoundPhase.LlmTeacherLogits));
        f.Send(Commands.Output(1, RoundPhase.SlmDistillation));
        f.Send(new RecordBroadcast(1, Specs.Clients));
        f.Send(Commands.Output(1, RoundPhase.SlmTeacherLogits));
        f.Send(Commands.Output(1, RoundPhase.LlmDistillation));
        f.Send(Commands.Evaluated(1));
        Assert.Equal(RoundPhase.Completed, f.State.Phase);
        return f;
    }

    [Fact]
    public void Uploads_are_recorded_from_the_accepted_updates_and_a_resend_records_nothing()
    {
        var f = CompletedJob();
        Assert.Equal(Specs.Clients, f.State.Transfers.Where(t => t.Direction == ClientTransfer.Up).Select(t => t.ClientId));
        Assert.All(f.State.Transfers, t => Assert.Equal((1, ClientTransfer.Update, Moved), (t.Round, t.What, t.Count)));
        Assert.Equal(Outcome.Late, f.Send(Commands.Update(1, "alice") with { Upload = Moved }).Outcome);
        Assert.Equal(3, f.State.Transfers.Count);
    }

    [Fact]
    public void The_final_download_is_recorded_after_the_job_completed_once_per_client()
    {
        var f = CompletedJob();
        var final = f.State.History[^1].Slm;
        Assert.Equal(Specs.Clients, f.State.FinalDownloadsPending());

        var report = new RecordDownload(1, "bob", ClientTransfer.Broadcast, final, Moved);
        Assert.Equal(Outcome.Accepted, f.Send(report).Outcome);
        Assert.Equal(Outcome.Duplicate, f.Send(report).Outcome);

        Assert.Equal(["alice", "carol"], f.State.FinalDownloadsPending());
        var (_, download) = CommunicationSummary.FinalDownloads(f.State).Single(d => d.ClientId == "bob");
        Assert.Equal(new ClientTransfer(1, "bob", ClientTransfer.Down, ClientTransfer.Broadcast, final, Moved), download);
        var bob = CommunicationSummary.PerRoundAndClient(f.State).Single(r => r.ClientId == "bob");
        Assert.Equal((Moved.Bytes, Moved.Bytes), (bob.UpBytes, bob.DownBytes));
    }

    [Theory]
    [InlineData("mallory", 1, 10, "not enrolled")]
    [InlineData("bob", 3, 10, "rounds 1 to 1")]
    [InlineData("bob", 1, -1, "negative")]
    public void A_bad_download_report_is_refused_and_records_nothing(string client, int round, long bytes, string reason)
    {
        var f = CompletedJob();
        var decision = f.Send(new RecordDownload(round, client, ClientTransfer.Broadcast, Blobs.InitialSlm, new TransferCount(bytes, 1, 1)));
        Assert.Equal(Outcome.Rejected, decision.Outcome);
        Assert.Contains(reason, decision.Detail);
        Assert.DoesNotContain(f.State.Transfers, t => t.Direction == ClientTransfer.Down);
    }

    [Fact]
    public void An_update_accepted_in_an_older_journal_reads_with_no_measured_upload()
    {
        // client-update-accepted/v1 as written before the counters: no "Upload".
        var json = """{"Round":1,"ClientId":"alice","Update":{"Sha256":"4a44dc15364204a80fe80e9039455cc1608281820fe2b24f1e5233ade6af1dd5","Size":2},"SampleCount":10,"TrainLoss":1.5,"At":"2025-03-01T09:30:15.123+02:00"}"""u8.ToArray();
        var e = Assert.IsType<ClientUpdateAccepted>(RoundEventSerializer.Read(json, "client-update-accepted/v1"));
        Assert.Null(e.Upload);
        var state = new Federation();
        state.Send(new StartJob(Specs.Default));
        state.Send(Commands.Initialized());
        Assert.Empty(state.State.Apply(e with { Update = Blobs.Update(1, "alice") }).Transfers);
    }
}

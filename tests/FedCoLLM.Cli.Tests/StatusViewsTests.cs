using System.Collections.Immutable;
using System.Text.Json;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Web.Status;

namespace FedCoLLM.Cli.Tests;

/// <summary>What the status page's API makes of a job entity's answer: phases, clients, rounds and plot series, from a
/// state built by hand (no cluster).</summary>
public class StatusViewsTests
{
    static readonly DateTimeOffset At = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    static BlobRef Blob(char c) => new(new string(c, 64), 1);

    static JobStatus MidRoundTwo()
    {
        var spec = new JobSpec { JobId = "j", ClientIds = ["b", "a"], Rounds = 3, Seed = 1 };
        var committed = new CommittedRound(1, 1, ["a", "b"], [], Blob('1'), Blob('2'), new Dictionary<string, double>
        {
            ["slm/acc/x"] = 0.3, ["slm/acc/y"] = 0.4, ["llm/acc/x"] = 0.5, ["llm/acc/y"] = 0.7,
            ["client/a/train_loss"] = 2.0, ["client/b/train_loss"] = double.NaN,
            ["slm_distill_loss"] = 3.0, ["slm_distill_first_loss"] = 4.0,
        }, At);
        var state = RoundState.Empty with
        {
            Job = spec, Phase = RoundPhase.ClientsTraining, Round = 2, Attempt = 1,
            History = [committed],
            Baseline = ImmutableDictionary<string, double>.Empty.Add("slm/acc/x", 0.2).Add("slm/acc/y", 0.2),
            Updates = ImmutableDictionary<string, AcceptedUpdate>.Empty.Add("a", new AcceptedUpdate(Blob('3'), 10, 1.5)),
        };
        return new JobStatus("j", state, [
            new LiveProgress("b", 2, RoundPhase.ClientsTraining, 1, 3, 2.5),
            new LiveProgress("server", 1, RoundPhase.Evaluating, 4, 4, 0.4), // last round's: not shown
        ]);
    }

    static readonly JobEntry Entry = new("j", ["a", "b"], At, null);

    [Fact]
    public void A_job_in_its_clients_phase_shows_who_submitted_who_trains_and_what_earlier_rounds_measured()
    {
        var view = JobViews.Detail(Entry, MidRoundTwo(), At)!;

        Assert.Equal(("ClientsTraining", 2, 3), (view.State, view.Round, view.RoundsPlanned));
        Assert.Equal(["current", .. Enumerable.Repeat("pending", view.Phases.Count - 1)], view.Phases.Select(p => p.Status));
        Assert.Equal([("b", "loss")], view.Live.Select(l => (l.Worker, l.Measure)));

        var (a, b) = (view.Clients[0], view.Clients[1]);
        Assert.Equal(("a", "submitted", 2, 1.5, 10L, (DateTimeOffset?)null), (a.Id, a.Status, a.LastRound!.Value, a.LastTrainLoss!.Value, a.SampleCount!.Value, a.LastCommittedAt));
        Assert.Equal(("b", "training", 1, (double?)null, (long?)null, At, 1), (b.Id, b.Status, b.LastRound!.Value, b.LastTrainLoss, b.SampleCount, b.LastCommittedAt!.Value, b.Progress!.Step));

        Assert.Equal(["x", "y"], view.EvaluationSets);
        var round = Assert.Single(view.History);
        Assert.Equal(0.35, round.SlmAccuracy!.Value, 12);
        Assert.Equal(0.6, round.LlmAccuracy!.Value, 12);
        Assert.Equal(["client/a/train_loss", "client/b/train_loss", "slm_distill_loss"], round.Losses.Keys);

        // Round 0 is the baseline (scored for the SLM only here); a NaN loss and the *_first_loss companions are no line.
        Assert.Equal([("SLM", 0, 0.2), ("SLM", 1, 0.35), ("LLM", 1, 0.6)],
            view.Accuracy.SelectMany(s => s.Points.Select(p => (s.Name, p.Round, Math.Round(p.Value, 12)))));
        Assert.Equal([("slm distill", 1, 3.0), ("a train", 1, 2.0)], view.Loss.SelectMany(s => s.Points.Select(p => (s.Name, p.Round, p.Value))));
    }

    [Fact]
    public void A_client_whose_update_was_refused_shows_as_refused()
    {
        var status = MidRoundTwo();
        var refused = status with { State = status.State with { Rejected = ImmutableDictionary<string, string>.Empty.Add("b", "non-finite: NaN") } };

        var view = JobViews.Detail(Entry, refused, At)!;

        Assert.Equal(("b", "refused"), (view.Clients[1].Id, view.Clients[1].Status));
    }

    [Fact]
    public void The_api_writes_snake_case_json_with_null_for_what_is_not_a_number()
    {
        var json = JsonSerializer.Serialize(JobViews.Detail(Entry, MidRoundTwo(), At)!, StatusJson.Default.JobDetailView);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(3, doc.RootElement.GetProperty("rounds_planned").GetInt32());
        var losses = doc.RootElement.GetProperty("history")[0].GetProperty("losses");
        Assert.Equal(JsonValueKind.Null, losses.GetProperty("client/b/train_loss").ValueKind);
    }

    [Fact]
    public void A_job_whose_entity_did_not_answer_is_listed_from_the_directory_alone()
    {
        var row = JobViews.Summary(new JobEntry("old", ["a"], At, "Completed"), null);
        Assert.Equal(("old", "Completed", false, (string?)null), (row.Id, row.State, row.Answered, row.Strategy));
        var live = JobViews.Summary(Entry, MidRoundTwo());
        Assert.Equal(("ClientsTraining", 2, 3, 1, true), (live.State, live.Round, live.RoundsPlanned!.Value, live.Committed, live.Answered));
    }
}

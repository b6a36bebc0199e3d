using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Telemetry;
using FedCoLLM.Actors.Tests.Rounds;

namespace FedCoLLM.Actors.Tests.Telemetry;

/// <summary>The job entity's events become round and phase durations (from the events' own timestamps), losses and
/// accuracies; a replayed journal moves only the clocks.</summary>
public class JobEventMetricsTests
{
    static JobSpec Spec(string job) => Specs.Default with { JobId = job, Rounds = 1 };

    static CompleteStep Evaluated(double slm, double llm) => new(1, RoundPhase.Evaluating,
        new StepResult([], new Dictionary<string, double> { ["slm/acc/animals"] = slm, ["llm/acc/animals"] = llm, ["slm/acc_norm/animals"] = 0.1 }));

    /// <summary>Runs round 1 to its end (the fixture's clock ticks one second per command).</summary>
    static Federation RoundOne(string job) => Federation.Started(Spec(job)).RunTo(1, RoundPhase.Evaluating).Given(Evaluated(0.75, 0.5));

    static void Observe(JobEventMetrics metrics, Federation f, int from, int to, bool live)
    {
        for (var i = from; i < to; i++)
            metrics.Observe(i == 0 ? RoundState.Empty : f.StatesAfter[i - 1], f.Journal[i], f.StatesAfter[i], live);
    }

    [Fact]
    public void A_committed_round_records_its_duration_each_phase_it_left_and_its_accuracies()
    {
        const string job = "metrics-live";
        using var recorder = new MetricsRecorder(job);
        var f = RoundOne(job);

        Observe(new JobEventMetrics(job), f, 0, f.Journal.Count, live: true);

        var opened = f.Journal.OfType<AdaptersInitialized>().Single().At;
        var committed = f.Journal.OfType<RoundCommitted>().Single().At;
        Assert.Equal((committed - opened).TotalSeconds, Assert.Single(recorder.Of("fedcollm.round.duration")).Value);
        var phases = recorder.Of("fedcollm.phase.duration");
        Assert.Equal([RoundPhase.Initializing.Name, .. Specs.Default.Phases.Select(p => p.Name.Name)], phases.Select(p => p.Tags["phase"]));
        Assert.Equal((committed - opened).TotalSeconds, phases.Skip(1).Sum(p => p.Value), 6);
        var accuracy = recorder.Of("fedcollm.evaluation.accuracy");
        Assert.Equal(["llm 0.5", "slm 0.75"], accuracy.Select(a => $"{a.Tags["model"]} {a.Value}").Order());
        Assert.All(accuracy, a => Assert.Equal(("1", "animals"), (a.Tags["round"], a.Tags["set"])));
        // Each client's training loss, tagged with the client and the phase it trained in.
        Assert.Equal(Specs.Clients, recorder.Of("fedcollm.loss").Where(l => l.Tags.ContainsKey("client")).Select(l => l.Tags["client"]).Order());
    }

    [Fact]
    public void A_recovered_entity_records_nothing_for_replayed_events_and_times_its_phase_from_the_journal()
    {
        const string job = "metrics-replayed";
        using var recorder = new MetricsRecorder(job);
        var f = RoundOne(job);
        var last = f.Journal.Count - 1;
        var metrics = new JobEventMetrics(job);

        Observe(metrics, f, 0, last, live: false);
        Assert.Empty(recorder.Of("fedcollm.phase.duration"));
        Observe(metrics, f, last, last + 1, live: true);

        var evaluating = Assert.Single(recorder.Of("fedcollm.phase.duration"));
        Assert.Equal(RoundPhase.Evaluating.Name, evaluating.Tags["phase"]);
        Assert.Equal((f.Journal[last].At - f.Journal[last - 1].At).TotalSeconds, evaluating.Value);
        Assert.Single(recorder.Of("fedcollm.round.duration"));
    }

    [Fact]
    public void Recovery_exports_the_accuracies_of_every_committed_round_again()
    {
        const string job = "metrics-recovered";
        var f = RoundOne(job);
        using var recorder = new MetricsRecorder(job);

        new JobEventMetrics(job).Recovered(f.State);

        Assert.Equal(2, recorder.Of("fedcollm.evaluation.accuracy").Count);
    }
}

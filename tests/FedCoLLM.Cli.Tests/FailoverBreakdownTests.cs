using FedCoLLM.Cli.Chaos;
using FedCoLLM.Cli.Federation;

namespace FedCoLLM.Cli.Tests;

/// <summary><c>fedcollm bench failover</c>'s profile: the stages of a job-host failover read from the survivors' trace
/// lines, and the job-host-only fault draw.</summary>
public class FailoverBreakdownTests
{
    static readonly DateTime Kill = new(2026, 12, 3, 6, 0, 0, DateTimeKind.Utc);
    static OutputLine At(double seconds, string text) => new(Kill.AddSeconds(seconds), $"[06:00:00.000] {text}");
    const string Victim = "UniqueAddress: (akka.ssl.tcp://fedcollm@server-1.fedcollm-server:4053, 42)";

    [Fact]
    public void The_stages_come_from_the_first_line_of_each_kind_after_the_kill()
    {
        OutputLine[] lines =
        [
            At(-5, $"{NodeTrace.EntityStarted} chaos"), // the entity's first start, before the kill: not this failover
            At(-4, $"{NodeTrace.StepStarted} round 1 Aggregating · job chaos spec 0123456789ab"),
            At(16, $"{NodeTrace.StepStarted} round 1 LlmTeacherLogits · job chaos spec 0123456789ab"),
            At(9, $"{NodeTrace.Removed} {Victim} (was Down)"),
            At(7.5, $"{NodeTrace.Unreachable} {Victim}"),
            At(7, $"{NodeTrace.Downed} {Victim}"), // downed at its replacement's Join, before any detector fired
            At(9.2, $"{NodeTrace.Removed} {Victim} (was Down)"),
            At(12, $"{NodeTrace.EntityStarted} chaos"),
            At(12.5, $"{NodeTrace.EntityRecovered} chaos at round 1 Aggregating (4 events replayed)"),
        ];
        var b = FailoverBreakdown.From(lines, Kill, transitionSeconds: 18);

        Assert.Equal(7, b.Detect!.Value, 3);
        Assert.Equal(0, b.Down!.Value, 3);
        Assert.Equal(9, b.Removed!.Value, 3);
        Assert.Equal(5, b.Handoff!.Value, 3);
        Assert.Equal(0.5, b.Replay!.Value, 3);
        Assert.Equal(16, b.StepRestarted!.Value, 3);
        Assert.Equal(5.5, b.Step!.Value, 3);
        Assert.Equal("chaos at round 1 Aggregating (4 events replayed)", b.RecoveredAt);
        Assert.Equal(18, (b.Detect + b.Down + b.Handoff + b.Replay + b.Step)!.Value, 3);
    }

    [Fact]
    public void A_stage_the_logs_do_not_show_stays_unknown_and_so_do_the_stages_that_need_it()
    {
        var b = FailoverBreakdown.From([At(11, $"{NodeTrace.Unreachable} {Victim}"), At(18, $"{NodeTrace.Downed} {Victim}")], Kill, transitionSeconds: null);

        Assert.Equal(11, b.Detect!.Value, 3);
        Assert.Equal(7, b.Down!.Value, 3);
        Assert.Null(b.EntityStarted);
        Assert.Null(b.Handoff);
        Assert.Null(b.Replay);
        Assert.Null(b.Step);
        Assert.Null(b.ToJson()["handoff_s"]);
    }

    [Fact]
    public void A_transition_the_killed_node_wrote_itself_is_not_a_failover()
    {
        OutputLine[] lines =
        [
            At(7, $"{NodeTrace.Downed} {Victim}"),
            At(12, $"{NodeTrace.EntityStarted} chaos"),
            At(12.5, $"{NodeTrace.EntityRecovered} chaos at round 1 Evaluating (16 events replayed)"),
        ];

        Assert.True(FailoverBreakdown.From(lines, Kill, transitionSeconds: 15).FailedOver);
        // The step had just finished: its transition reached the journal 0.2 s after the SIGKILL, before any survivor
        // started the entity.
        Assert.False(FailoverBreakdown.From(lines, Kill, transitionSeconds: 0.2).FailedOver);
        Assert.False(FailoverBreakdown.From(lines[..1], Kill, transitionSeconds: 15).FailedOver);
    }

    [Fact]
    public void A_job_host_only_run_draws_the_job_host_every_trial_with_the_moments_of_a_mixed_run()
    {
        var only = Enumerable.Range(0, 12).Select(t => ChaosFault.Draw(seed: 1, t, rounds: 2, clients: 2, only: FaultKind.JobHost)).ToArray();
        Assert.All(only, f => Assert.Equal(FaultKind.JobHost, f.Kind));
        Assert.Equal(only, Enumerable.Range(0, 12).Select(t => ChaosFault.Draw(seed: 1, t, rounds: 2, clients: 2, only: FaultKind.JobHost)));
        Assert.All(only, f => Assert.InRange(f.Delay, TimeSpan.Zero, TimeSpan.FromSeconds(2)));
        Assert.True(only.Select(f => f.Phase).Distinct().Count() > 1, "the phases are drawn, not fixed");
        // Where a mixed run draws the job host, the job-host-only run draws the same fault.
        for (var t = 0; t < 12; t++)
            if (ChaosFault.Draw(seed: 1, t, rounds: 2, clients: 2) is { Kind: FaultKind.JobHost } mixed) Assert.Equal(mixed, only[t]);
    }
}

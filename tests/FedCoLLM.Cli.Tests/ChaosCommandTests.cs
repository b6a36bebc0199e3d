using System.Text.Json.Nodes;
using FedCoLLM.Tests.Shared;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// The CI chaos suite: `fedcollm chaos --trials 4` as a child process — one trial per fault kind (the job's host, the
/// aggregator, a client mid-training, an end of an adapter transfer), each SIGKILLing a node of a five-node cluster plus
/// follower on PostgreSQL and restarting it. Every trial must complete bit-identical to the undisturbed run with each
/// client update journaled once per round. docs/reliability.md has the 50-trial run.
/// </summary>
[Collection(ChildProcesses.Name)]
public class ChaosCommandTests
{
    [PostgresFact]
    public async Task Four_trials_one_per_fault_kind_all_complete_identically_with_every_update_counted_once()
    {
        if (Postgres.Unavailable() is { } reason) Assert.Fail(reason); // not reached: the attribute skips
        using var dir = new TempDir();
        // --loopback: the lab runs its own suite (LabTests); this keeps the layout of machines without namespaces covered.
        var info = Fedcollm.StartInfo(["chaos", "--loopback", "--trials", "4", "--seed", "3", "--out", dir.Path]);
        info.Environment["FEDCOLLM_POSTGRES"] = Postgres.ConnectionString;
        var (code, output) = await Fedcollm.Run(info, TimeSpan.FromMinutes(20));

        Assert.True(code == 0, output);
        Assert.Contains("trials: 4, completed: 4, identical: 4, exactly-once: 4", output);
        var trials = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "chaos.json")))!["trials"]!.AsArray();
        Assert.Equal(["aggregator", "client-training", "job-host", "transfer"], trials.Select(t => t!["kind"]!.GetValue<string>()).Order());
        Assert.All(trials, t => Assert.NotNull(t!["victim"]?.GetValue<string>()));
        Assert.True(File.Exists(Path.Combine(dir.Path, "chaos.md")));
    }
}

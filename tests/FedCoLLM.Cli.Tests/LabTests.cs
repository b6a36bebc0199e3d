using FedCoLLM.Tests.Shared;
using System.Text.Json.Nodes;
using FedCoLLM.Cli.Lab;

namespace FedCoLLM.Cli.Tests;

/// <summary>Runs where the multi-host lab can (root, `ip netns`, PostgreSQL's server binaries); skipped elsewhere with
/// the reason, except in CI (CI=true), where the lab must run and the test fails instead.</summary>
public sealed class LabFactAttribute : FactAttribute
{
    public static string? Unavailable => LabNetwork.Unavailable() ?? LabPostgres.Unavailable();

    public static bool Required => Requirement.InCi();

    public LabFactAttribute()
    {
        Skip = Requirement.Skip(Unavailable is { } why ? $"The multi-host lab cannot run here: {why}." : null);
    }
}

/// <summary>
/// The CI lab suite: `fedcollm lab` as a child process. Eight hosts in network namespaces on the lab's bridge
/// (PostgreSQL, the control host, three servers, the aggregator, two clients), every node on port 4053 with the
/// arguments and environment of its Kubernetes pod. Scenarios: 20 SIGKILLs of a server node, each
/// restarted at the same hostname and port and rejoining; the job's host cut off the network until the cluster downs
/// it, then healed; a client cut off while it trains, then healed. Each job must complete with the adapters of the
/// undisturbed single-process run and the journal must hold each client update once per round.
/// </summary>
[Collection(ChildProcesses.Name)]
public class LabTests
{
    [LabFact]
    public async Task Twenty_same_address_restarts_and_partitions_of_the_job_host_and_a_client_all_end_identically_with_every_update_once()
    {
        if (LabFactAttribute.Unavailable is { } why) Assert.Fail($"The lab must run in CI, but: {why}.");
        using var dir = new TempDir();
        // Each scenario is itself the job across the lab's namespaces; the undisturbed `job` scenario adds nothing to CI.
        var info = Fedcollm.StartInfo(["lab", "--scenario", "restarts", "--scenario", "partition-job-host", "--scenario", "partition-client", "--restarts", "20", "--out", dir.Path]);
        var (code, output) = await Fedcollm.Run(info, TimeSpan.FromMinutes(25));

        Assert.True(code == 0, output);
        Assert.Contains("3/3 scenarios passed.", output);
        var lab = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "lab.json")))!;
        var scenarios = lab["scenarios"]!.AsArray();
        Assert.Equal(["restarts", "partition-job-host", "partition-client"], scenarios.Select(s => s!["scenario"]!.GetValue<string>()));
        Assert.All(scenarios, s =>
        {
            Assert.True(s!["identical"]!.GetValue<bool>());
            Assert.Empty(s["journal_problems"]!.AsArray());
        });
        var rejoins = scenarios[0]!["rejoins"]!.AsArray();
        Assert.Equal(20, rejoins.Count);
        Assert.All(rejoins, r => Assert.True(r!["rejoined"]!.GetValue<bool>()));
        // Every server was the victim, each at its own address: the restarts cycle through the StatefulSet's pods.
        Assert.Equal(["server-0", "server-1", "server-2"], rejoins.Select(r => r!["node"]!.GetValue<string>()).Distinct().Order());
        // A partition that outlasts failure detection and the resolver's stable-after downs the cut-off node; the
        // supervisor restarts it (exit code 3) and it rejoins.
        Assert.Contains("downed and restarted by the supervisor", scenarios[1]!["fault"]!.GetValue<string>());
        Assert.Contains("downed and restarted by the supervisor", scenarios[2]!["fault"]!.GetValue<string>());
        // Nothing is left behind: no namespace of this run, no hosts file.
        Assert.DoesNotContain(Directory.Exists("/etc/netns") ? Directory.GetDirectories("/etc/netns") : [], d => Path.GetFileName(d).StartsWith("fedlab", StringComparison.Ordinal));
    }
}

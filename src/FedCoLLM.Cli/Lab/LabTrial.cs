using System.Diagnostics;
using FedCoLLM.Actors.Security;
using FedCoLLM.Cli.Chaos;

namespace FedCoLLM.Cli.Lab;

/// <summary>What a lab scenario does to the running cluster.</summary>
public enum LabScenario
{
    /// <summary>Nothing: the job across the lab's hosts, as it runs in a healthy deployment.</summary>
    Job,
    /// <summary>SIGKILL a server node and restart it at the same hostname and port, again and again, while the job runs;
    /// meanwhile a node with a certificate from another CA keeps trying to join (mutual TLS must refuse it every time).</summary>
    Restarts,
    /// <summary>Cut the node hosting the job off the network mid-round, long enough for the cluster to down it, then heal.</summary>
    PartitionJobHost,
    /// <summary>Cut a client off while it trains, long enough for the cluster to down it, then heal.</summary>
    PartitionClient,
}

/// <summary>One restart of a node at its own address: how long the new incarnation took to be Up.</summary>
public sealed record Rejoin(string Node, double Seconds, bool Rejoined);

/// <summary>What one lab scenario found.</summary>
public sealed record LabResult(
    LabScenario Scenario, bool Completed, bool Identical, IReadOnlyList<string> JournalProblems, IReadOnlyList<Rejoin> Rejoins,
    IReadOnlyList<string> SupervisorRestarts, string? Fault, double WallSeconds, string? Error)
{
    public bool Passed => Completed && Identical && JournalProblems.Count == 0 && Error is null && Rejoins.All(r => r.Rejoined);
}

/// <summary>
/// Runs one scenario in the lab: a fresh database on the lab's PostgreSQL, the cluster of <see cref="LabLayout"/>, the
/// fault, then the checks of <c>fedcollm chaos</c>: the job completes, its final adapters are bit-identical to the
/// undisturbed reference, and the journal accepted each client update exactly once per round. Partitions last
/// <see cref="LabOptions.Partition"/>: longer than failure detection plus the split-brain resolver's stable-after, so
/// the cut-off node is downed, exits (code 3) and is restarted by the supervisor, as in a StatefulSet.
/// </summary>
public static class LabTrial
{
    public const string Joined = "joined the cluster";
    static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public static async Task<LabResult> Run(int index, LabScenario scenario, LabOptions options, LabNetwork network, LabPostgres postgres, CancellationToken cancellation)
    {
        var wall = Stopwatch.StartNew();
        var directory = Path.Combine(options.Directory, $"{index:D2}-{Name(scenario)}");
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        var name = $"lab_{index:D2}_{Guid.NewGuid().ToString("N")[..8]}";
        using var database = ChaosDatabase.Create(postgres.Admin, name);
        var layout = new LabLayout(network, directory, postgres.ForNodes(name), options.JobFile, options.ClientData, options.ClientIds);
        var cluster = new ChaosCluster(layout);
        var rejoins = new List<Rejoin>();
        string? fault = null, error = null;
        var completed = false;
        var identical = false;
        IReadOnlyList<string> problems = [];
        NodeProcess? intruder = null;
        try
        {
            cluster.StartAll();
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            deadline.CancelAfter(options.Timeout);
            var follower = cluster[ChaosCluster.Follower];
            switch (scenario)
            {
                case LabScenario.Restarts:
                    await AllJoined(cluster, deadline.Token);
                    intruder = NodeProcess.Start("intruder", layout.Intruder());
                    for (var i = 0; i < options.Restarts; i++)
                    {
                        var victim = layout.ServerNodes[i % layout.ServerNodes.Count];
                        rejoins.Add(await RestartAtSameAddress(cluster, victim, options, deadline.Token));
                        if (!rejoins[^1].Rejoined) break;
                    }
                    fault = $"{rejoins.Count} same-address restarts of {string.Join(", ", layout.ServerNodes)}" + (follower.HasExited ? " (the job ended before the last)" : "");
                    fault += "; " + IntruderOutcome(cluster, intruder, ref error);
                    break;
                case LabScenario.PartitionJobHost:
                {
                    await WaitFor(() => follower.Saw("round 1/") && follower.Saw("· Aggregating") || follower.HasExited, deadline.Token);
                    var host = cluster.JobHost() ?? throw new InvalidOperationException("no server reported hosting the job");
                    fault = await Partition(network, cluster, host, options, deadline.Token);
                    break;
                }
                case LabScenario.PartitionClient:
                {
                    var client = layout.ClientNodes[^1];
                    await WaitFor(() => cluster[client].Saw($"{Federation.NodeTrace.StepStarted} round 1 ClientsTraining") || follower.HasExited, deadline.Token);
                    fault = await Partition(network, cluster, client, options, deadline.Token);
                    break;
                }
            }

            var left = options.Timeout - wall.Elapsed;
            var exit = left > TimeSpan.Zero ? await follower.WaitForExit(left, cancellation) : null;
            completed = exit == 0 && follower.Saw("· Completed");
            if (exit is null) error = $"the job did not finish within {options.Timeout.TotalMinutes:F0} min";
            else if (exit != 0) error = $"the follower exited with {exit}";
            if (completed) identical = ChaosTrial.FinalHashes(layout.FollowerReport) == options.Reference;
            problems = JournalAudit.Check(await JournalAudit.ReadEvents(postgres.ForHarness(name), cancellation), options.ClientIds, options.Rounds);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            error = $"the scenario did not finish within {options.Timeout.TotalMinutes:F0} min";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            error = e.Message;
        }
        finally
        {
            cluster.Dispose();
            cluster.WriteLogs(Path.Combine(directory, "logs"));
            if (intruder is not null)
            {
                intruder.Kill();
                File.WriteAllText(Path.Combine(directory, "logs", "intruder.log"), intruder.Output);
                intruder.Dispose();
            }
        }
        var restarts = cluster.SupervisorRestarts.Select(r => $"{r.Node} exited with {r.ExitCode} at {r.At:HH:mm:ss} and was restarted").ToArray();
        var result = new LabResult(scenario, completed, identical, problems, rejoins, restarts, fault, wall.Elapsed.TotalSeconds, error);
        if (!result.Passed) result = result with { Error = (error is null ? "" : error + "; ") + $"logs in {directory}" };
        database.KeepOnDispose = !result.Passed;
        return result;
    }

    public static string Name(LabScenario scenario) => scenario switch
    {
        LabScenario.Job => "job",
        LabScenario.Restarts => "restarts",
        LabScenario.PartitionJobHost => "partition-job-host",
        LabScenario.PartitionClient => "partition-client",
        _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
    };

    public static LabScenario Parse(string name) =>
        Enum.GetValues<LabScenario>().FirstOrDefault(s => Name(s) == name, (LabScenario)(-1)) is var s && Enum.IsDefined(s)
            ? s : throw new ArgumentException($"--scenario {name}: expected one of {string.Join(", ", Enum.GetValues<LabScenario>().Select(Name))}.");

    /// <summary>SIGKILL, then the same command line at the same hostname, address and port; the time until the new
    /// incarnation is Up (its "joined the cluster" line).</summary>
    static async Task<Rejoin> RestartAtSameAddress(ChaosCluster cluster, string victim, LabOptions options, CancellationToken cancellation)
    {
        cluster.Kill(victim);
        await Task.Delay(options.RestartAfter, cancellation);
        var started = DateTime.UtcNow;
        cluster.Restart(victim);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < options.RejoinTimeout)
        {
            // The supervisor may have replaced the incarnation (it exited: downed, or no seed answered): follow it.
            if (cluster[victim].First(Joined, started) is { } line)
                return new Rejoin(victim, (line.At - started).TotalSeconds, true);
            await Task.Delay(Poll, cancellation);
        }
        return new Rejoin(victim, clock.Elapsed.TotalSeconds, false);
    }

    /// <summary>Cuts the node off, waits, heals; then waits for the node (restarted by the supervisor once it was
    /// downed) to be Up again.</summary>
    static async Task<string> Partition(LabNetwork network, ChaosCluster cluster, string node, LabOptions options, CancellationToken cancellation)
    {
        var cut = DateTime.UtcNow;
        network.Partition(node);
        try { await Task.Delay(options.Partition, cancellation); }
        finally { network.Heal(node); }
        var healed = DateTime.UtcNow;
        await WaitFor(() => cluster[node].First(Joined, healed - options.Partition) is not null || cluster[ChaosCluster.Follower].HasExited, cancellation);
        var downed = cluster.SupervisorRestarts.Any(r => r.Node == node && r.At >= cut);
        return $"{node} cut off for {options.Partition.TotalSeconds:F0} s" + (downed ? ", downed and restarted by the supervisor" : ", not downed");
    }

    /// <summary>The intruder (a certificate from another CA) must never have joined, and the cluster must have logged
    /// refusing it (<see cref="PeerValidator.Refused"/>).</summary>
    static string IntruderOutcome(ChaosCluster cluster, NodeProcess? intruder, ref string? error)
    {
        if (intruder is null) return "no intruder";
        var refusers = cluster.Layout.Nodes.Where(n => cluster[n].Saw(PeerValidator.Refused)).ToArray();
        if (intruder.Saw(Joined)) error = "an intruder with a certificate from another CA joined the cluster";
        else if (refusers.Length == 0) error = "no node logged refusing the intruder (a certificate from another CA)";
        return $"an intruder with another CA's certificate tried to join throughout: refused by {(refusers.Length == 0 ? "none" : string.Join(", ", refusers))}, joined {intruder.Saw(Joined)}";
    }

    static async Task AllJoined(ChaosCluster cluster, CancellationToken cancellation) =>
        await WaitFor(() => cluster.Layout.Nodes.All(n => cluster[n].Saw(Joined)), cancellation);

    static async Task WaitFor(Func<bool> condition, CancellationToken cancellation)
    {
        while (!condition()) await Task.Delay(Poll, cancellation);
    }
}

/// <summary>What every scenario of a lab run shares.</summary>
public sealed record LabOptions(
    string Directory, string JobFile, string ClientData, IReadOnlyList<string> ClientIds, int Rounds, (string Slm, string Llm) Reference,
    int Restarts, TimeSpan RestartAfter, TimeSpan RejoinTimeout, TimeSpan Partition, TimeSpan Timeout);

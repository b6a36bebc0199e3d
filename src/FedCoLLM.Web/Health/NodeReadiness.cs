using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using FedCoLLM.Actors.Hosting;

namespace FedCoLLM.Web.Health;

/// <summary>One readiness check: its name, whether it passed, and what it saw.</summary>
public sealed record ReadinessCheck(string Name, bool Ok, string Detail);

public sealed record ReadinessReport(IReadOnlyList<ReadinessCheck> Checks)
{
    public bool Ready => Checks.All(c => c.Ok);
}

/// <summary>
/// Whether this node can do its part: it is an Up member of the cluster ("member"), its journal answers a query
/// ("journal", <see cref="JournalProbe"/>), and its shard regions are registered with their coordinators ("shards": a
/// region this node hosts is among the coordinator's regions; a proxy knows a coordinator that has at least one
/// region). The report is reused for <see cref="CacheFor"/>, so frequent probes do not query the database each time.
/// </summary>
public sealed class NodeReadiness
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1.5);
    static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(3);

    readonly NodeWebContext context;
    readonly Cluster cluster;
    readonly IActorRef journalProbe;
    readonly object gate = new();
    Task<ReadinessReport>? last;
    long lastStarted;

    public NodeReadiness(NodeWebContext context)
    {
        this.context = context;
        cluster = Cluster.Get(context.System);
        journalProbe = context.System.ActorOf(JournalProbe.Props(), "readiness-journal-probe");
    }

    public Task<ReadinessReport> CheckAsync()
    {
        lock (gate)
        {
            if (last is null || (last.IsCompleted && Stopwatch.GetElapsedTime(lastStarted) > CacheFor))
            {
                lastStarted = Stopwatch.GetTimestamp();
                last = RunAsync();
            }
            return last;
        }
    }

    async Task<ReadinessReport> RunAsync()
    {
        var checks = await Task.WhenAll(Task.FromResult(Member()), JournalAsync(), ShardsAsync());
        return new ReadinessReport(checks);
    }

    ReadinessCheck Member()
    {
        var status = cluster.SelfMember.Status;
        return new ReadinessCheck("member", status == MemberStatus.Up && !cluster.IsTerminated,
            cluster.IsTerminated ? "cluster terminated" : $"{status} ({cluster.State.Members.Count(m => m.Status == MemberStatus.Up)} members up)");
    }

    async Task<ReadinessCheck> JournalAsync()
    {
        try
        {
            await journalProbe.Ask<long>(JournalProbe.Check.Instance, AskTimeout);
            return new ReadinessCheck("journal", true, "answers");
        }
        catch (Exception e)
        {
            return new ReadinessCheck("journal", false, e is AskTimeoutException ? $"no answer within {AskTimeout.TotalSeconds:0} s" : e.Message);
        }
    }

    async Task<ReadinessCheck> ShardsAsync()
    {
        var roles = cluster.SelfRoles;
        var regions = new List<(string Name, IActorRef Region, bool Hosted)>
        {
            (FederationNode.JobRegion, context.Node.Servers, roles.Contains("server")),
            (FederationNode.DirectoryRegion, context.Node.Directory, roles.Contains("server")),
        };
        // A node without the aggregator role never talks to the aggregators: their absence does not make it unready.
        if (roles.Contains("aggregator")) regions.Add((FederationNode.AggregatorRegion, context.Node.Aggregators, true));
        var results = await Task.WhenAll(regions.Select(async r =>
        {
            try
            {
                var current = await r.Region.Ask<CurrentRegions>(GetCurrentRegions.Instance, AskTimeout);
                return r.Hosted
                    ? current.Regions.Contains(cluster.SelfAddress) ? null : $"{r.Name} not registered with its coordinator"
                    : current.Regions.Count > 0 ? null : $"{r.Name} proxy has no coordinator yet";
            }
            catch (AskTimeoutException)
            {
                return $"{r.Name} did not answer within {AskTimeout.TotalSeconds:0} s";
            }
        }));
        var failed = results.OfType<string>().ToArray();
        return failed.Length == 0
            ? new ReadinessCheck("shards", true, string.Join(", ", regions.Select(r => r.Name + (r.Hosted ? " hosted" : " proxy"))))
            : new ReadinessCheck("shards", false, string.Join("; ", failed));
    }
}

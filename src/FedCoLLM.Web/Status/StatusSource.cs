using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;
using FedCoLLM.Actors.Protocol;

namespace FedCoLLM.Web.Status;

/// <summary>
/// Reads the page's data from the cluster, as the CLI's job verbs do: the job directory for the list, each job entity
/// (journal-backed, through the shard region or its proxy) for its state. Nothing is stored here except the status of
/// jobs that ended, which can never change again, so a page polling every two seconds does not wake every finished
/// entity (and replay its journal) on each poll.
/// </summary>
public sealed class StatusSource(NodeWebContext context)
{
    /// <summary>Long enough for an entity to recover its journal; short enough that a page poll is not left hanging
    /// while an entity moves between nodes.</summary>
    static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    readonly ConcurrentDictionary<string, JobStatus> ended = new(StringComparer.Ordinal);

    public NodeView Node()
    {
        var cluster = Cluster.Get(context.System);
        return new NodeView(cluster.SelfAddress.ToString(), cluster.SelfRoles.Order(StringComparer.Ordinal).ToList(),
            cluster.State.Members.Count);
    }

    /// <summary>Every job the cluster accepted, in submission order; throws <see cref="AskTimeoutException"/> when the
    /// directory does not answer.</summary>
    public async Task<IReadOnlyList<JobEntry>> Jobs(CancellationToken cancellation) =>
        (await context.Node.Directory.Ask<JobList>(ListJobs.Instance, AskTimeout, cancellation)).Jobs;

    /// <summary>The job's status, or null when its entity did not answer in time.</summary>
    public async Task<JobStatus?> Status(string jobId, CancellationToken cancellation)
    {
        if (ended.TryGetValue(jobId, out var final)) return final;
        try
        {
            var status = await context.Node.Servers.Ask<JobStatus>(new GetJobStatus(jobId), AskTimeout, cancellation);
            if (status.State.Phase.IsTerminal) ended.TryAdd(jobId, status);
            return status;
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }
}

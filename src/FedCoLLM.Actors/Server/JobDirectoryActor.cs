using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Telemetry;

namespace FedCoLLM.Actors.Server;

/// <summary>A job entered the directory (its entity accepted the spec).</summary>
public sealed record DirectoryJobListed(string JobId, IReadOnlyList<string> Enrolled, DateTimeOffset At);

/// <summary>A listed job ended (Completed, Failed or Cancelled).</summary>
public sealed record DirectoryJobEnded(string JobId, string Phase, DateTimeOffset At);

/// <summary>
/// The cluster's list of jobs: one event-sourced entity (sharded, so it moves like a job entity when its node dies).
/// Job entities announce themselves and their end (both resent until acknowledged, so a crash on either side loses
/// nothing); each node's <see cref="Client.SiloDirectoryPoller"/> asks it which running jobs enrol its client silos;
/// <c>fedcollm jobs</c> lists it. It holds no round state:
/// a job's progress is asked of the job itself.
/// </summary>
public sealed class JobDirectoryActor : ReceivePersistentActor
{
    public const string EntityId = "directory";

    public static Props Props() => Akka.Actor.Props.Create(() => new JobDirectoryActor());

    ImmutableList<JobEntry> jobs = [];
    // Running() of the job list it was built from.
    ImmutableList<JobEntry>? runningOf;
    (string JobId, HashSet<string> Enrolled)[] running = [];

    public override string PersistenceId => "federation-directory";

    /// <summary>Only job entities on server members list and delist jobs (<see cref="Identity.TrustBoundary"/>).</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        if (Identity.TrustBoundary.Refusal(Context.System, message, Sender) is not { } refusal) return base.AroundReceive(receive, message);
        Context.GetLogger().Warning("{0}", refusal);
        return true;
    }

    public JobDirectoryActor()
    {
        Recover<DirectoryJobListed>(Apply);
        Recover<DirectoryJobEnded>(Apply);

        Command<ListJob>(l =>
        {
            if (jobs.Any(j => j.JobId == l.JobId)) Sender.Tell(new JobListed(l.JobId));
            else
            {
                var replyTo = Sender;
                var started = Stopwatch.GetTimestamp();
                Persist(new DirectoryJobListed(l.JobId, l.Enrolled.ToArray(), DateTimeOffset.UtcNow), e => { Written(started); Apply(e); replyTo.Tell(new JobListed(l.JobId)); });
            }
        });
        Command<DelistJob>(d =>
        {
            var entry = jobs.FirstOrDefault(j => j.JobId == d.JobId);
            if (entry is null || entry.EndedIn is not null) Sender.Tell(new JobDelisted(d.JobId));
            else
            {
                var replyTo = Sender;
                var started = Stopwatch.GetTimestamp();
                Persist(new DirectoryJobEnded(d.JobId, d.Phase, DateTimeOffset.UtcNow), e => { Written(started); Apply(e); replyTo.Tell(new JobDelisted(d.JobId)); });
            }
        });
        Command<ListJobs>(_ => Sender.Tell(new JobList(jobs)));
        Command<JobsForClients>(q =>
        {
            var running = Running();
            Sender.Tell(new ClientsJobs(q.ClientIds.Select(c => new ClientJobs(c, running.Where(j => j.Enrolled.Contains(c)).Select(j => j.JobId).ToArray())).ToArray()));
        });
    }

    /// <summary>A set per running job, built once per change of the job list: a batch of N silos then costs N lookups per
    /// job, not N × E (E enrolled), and the batches of one poll (50 at 10,000 silos) share the sets.</summary>
    (string JobId, HashSet<string> Enrolled)[] Running()
    {
        if (ReferenceEquals(runningOf, jobs)) return running;
        running = jobs.Where(j => j.EndedIn is null).Select(j => (j.JobId, j.Enrolled.ToHashSet(StringComparer.Ordinal))).ToArray();
        runningOf = jobs;
        return running;
    }

    static void Written(long started) => FederationMetrics.JournalWritten("directory", started);

    void Apply(DirectoryJobListed e) => jobs = jobs.Add(new JobEntry(e.JobId, e.Enrolled, e.At, null));

    void Apply(DirectoryJobEnded e)
    {
        var i = jobs.FindIndex(j => j.JobId == e.JobId);
        if (i >= 0) jobs = jobs.SetItem(i, jobs[i] with { EndedIn = e.Phase });
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Cluster;
using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Telemetry;

/// <summary>Which way adapter bytes went, seen from the client silo.</summary>
public enum TransferDirection { Sent, Received }

/// <summary>
/// The federation's metrics: the one <see cref="Meter"/> "FedCoLLM" and all its instruments, recorded with
/// System.Diagnostics.Metrics only, so the actors need no exporter. A node's HTTP port (FedCoLLM.Web) reads the meter
/// through OpenTelemetry and serves it as Prometheus text on <c>/metrics</c>; docs/deploy.md lists every series.
/// Nothing is recorded into a histogram or gauge unless something listens, so an actor's one-line call costs nothing on a
/// node without the HTTP port.
/// </summary>
public static class FederationMetrics
{
    public const string MeterName = "FedCoLLM";

    static readonly Meter Meter = new(MeterName, typeof(FederationMetrics).Assembly.GetName().Version?.ToString(3));

    // Rounds take from seconds (tiny test jobs) to hours; a journal write from a millisecond to seconds (SQLite under load).
    static readonly double[] RoundBuckets = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400];
    static readonly double[] JournalBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    static readonly Histogram<double> RoundDuration = Meter.CreateHistogram("fedcollm.round.duration", "s",
        "From a round's opening (the previous commit, or the initial adapters) to its commit, retried attempts included.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RoundBuckets });

    static readonly Histogram<double> PhaseDuration = Meter.CreateHistogram("fedcollm.phase.duration", "s",
        "From the journaled event that entered a phase to the one that left it.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RoundBuckets });

    static readonly Counter<long> ClientTransfer = Meter.CreateCounter<long>("fedcollm.client.transfer", "By",
        "Bytes a client silo exchanged with the server: received = what its fetches actually moved (starting and broadcast adapters, job definition, secure-aggregation inputs), sent = its update or secure-aggregation message.");

    static readonly Counter<long> BlobTransfer = Meter.CreateCounter<long>("fedcollm.blob.transfer", "By",
        "Blob bytes this node streamed to another node (sent) or fetched and verified from one (received).");

    static readonly Histogram<double> BlobFetch = Meter.CreateHistogram("fedcollm.blob.fetch.duration", "s",
        "One fetch of a blob another node holds: from the FetchBlob ask to the verified bytes in this node's store.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = JournalBuckets });

    static readonly Gauge<double> Loss = Meter.CreateGauge<double>("fedcollm.loss", null,
        "The last training or distillation loss of a phase (the tail loss of its report), per client for client training.");

    static readonly Gauge<double> Accuracy = Meter.CreateGauge<double>("fedcollm.evaluation.accuracy", null,
        "Accuracy of a committed round's SLM or LLM on an evaluation set (round 0: the pre-trained models).");

    static readonly Histogram<double> JournalWrite = Meter.CreateHistogram("fedcollm.journal.write.duration", "s",
        "From a persistent entity's Persist call to its handler: the journal's write latency as the entity sees it.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = JournalBuckets });

    static readonly Histogram<int> JournalWriteEvents = Meter.CreateHistogram<int>("fedcollm.journal.write.events", null,
        "Events in one journal write: a job entity decides the client messages that arrived meanwhile together and writes their events at once.",
        tags: null, advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });

    static readonly ConcurrentDictionary<ActorSystem, Cluster> Clusters = new();
    static readonly ConcurrentDictionary<object, (string Job, Func<bool> InFlight)> PendingSteps = new();
    static int torchQueue;

    static FederationMetrics()
    {
        Meter.CreateObservableGauge("fedcollm.cluster.members", ObserveMembers, null, "Members of the cluster this node sees, by status.");
        Meter.CreateObservableGauge("fedcollm.steps.in_flight", ObservePendingSteps, null,
            "Steps a job entity on this node has asked for (of its worker or an aggregator) and waits on: 0 or 1 per job.");
        Meter.CreateObservableGauge("fedcollm.steps.queued", () => Volatile.Read(ref torchQueue), null,
            "Steps on this node waiting for the TorchSharp gate (one step runs at a time per process).");
    }

    public static void RoundCommitted(string job, TimeSpan duration) =>
        RoundDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("job", job));

    public static void PhaseEnded(string job, RoundPhase phase, TimeSpan duration) =>
        PhaseDuration.Record(duration.TotalSeconds, new("job", job), new("phase", phase.ToString()));

    public static void ClientBytes(string job, string client, TransferDirection direction, long bytes) =>
        ClientTransfer.Add(bytes, new("job", job), new("client", client), new("direction", Name(direction)));

    public static void BlobBytes(TransferDirection direction, long bytes) =>
        BlobTransfer.Add(bytes, new KeyValuePair<string, object?>("direction", Name(direction)));

    /// <param name="client">The client for a client's training loss; null for a server phase.</param>
    public static void PhaseLoss(string job, RoundPhase phase, string? client, double loss)
    {
        if (double.IsNaN(loss)) return;
        if (client is null) Loss.Record(loss, new("job", job), new("phase", phase.ToString()));
        else Loss.Record(loss, new("job", job), new("phase", phase.ToString()), new("client", client));
    }

    /// <param name="started">A <see cref="Stopwatch.GetTimestamp"/> taken when the fetch began.</param>
    public static void BlobFetched(long started) => BlobFetch.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);

    /// <param name="model">"slm" or "llm".</param>
    public static void EvaluationAccuracy(string job, int round, string set, string model, double accuracy) =>
        Accuracy.Record(accuracy, new("job", job), new("round", round), new("set", set), new("model", model));

    /// <param name="entity">"job" or "directory".</param>
    /// <param name="started">A <see cref="Stopwatch.GetTimestamp"/> taken at the Persist call.</param>
    /// <param name="events">How many events the write held.</param>
    public static void JournalWritten(string entity, long started, int events = 1)
    {
        JournalWrite.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("entity", entity));
        JournalWriteEvents.Record(events, new KeyValuePair<string, object?>("entity", entity));
    }

    /// <summary>Reports <paramref name="system"/>'s view of the cluster in <c>fedcollm.cluster.members</c> until it terminates.</summary>
    public static void TrackCluster(ActorSystem system)
    {
        if (Clusters.TryAdd(system, Cluster.Get(system)))
            system.WhenTerminated.ContinueWith(_ => Clusters.TryRemove(system, out Cluster? _), TaskScheduler.Default);
    }

    /// <summary>Reports whether a job entity waits on a step in <c>fedcollm.steps.in_flight</c>, until disposed (the
    /// entity stops). <paramref name="inFlight"/> is read on the exporter's thread: it must only read a field.</summary>
    public static IDisposable TrackPendingStep(string job, Func<bool> inFlight)
    {
        var key = new object();
        PendingSteps[key] = (job, inFlight);
        return new Registration(() => PendingSteps.TryRemove(key, out _));
    }

    /// <summary>A step starts or stops waiting for the TorchSharp gate.</summary>
    public static void TorchQueue(int delta) => Interlocked.Add(ref torchQueue, delta);

    static IEnumerable<Measurement<int>> ObserveMembers()
    {
        var counts = Enum.GetValues<MemberStatus>().ToDictionary(s => s, _ => 0);
        // One system's view: a process hosts one node (tests that host several see the same cluster anyway).
        if (Clusters.Values.FirstOrDefault() is { } cluster)
            foreach (var member in cluster.State.Members) counts[member.Status]++;
        return counts.Select(kv => new Measurement<int>(kv.Value, new KeyValuePair<string, object?>("status", kv.Key.ToString().ToLowerInvariant())));
    }

    static IEnumerable<Measurement<int>> ObservePendingSteps() =>
        PendingSteps.Values.GroupBy(p => p.Job, StringComparer.Ordinal)
            .Select(g => new Measurement<int>(g.Count(p => p.InFlight()), new KeyValuePair<string, object?>("job", g.Key)));

    static string Name(TransferDirection direction) => direction == TransferDirection.Sent ? "sent" : "received";

    sealed class Registration(Action dispose) : IDisposable
    {
        int disposed;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) dispose();
        }
    }
}

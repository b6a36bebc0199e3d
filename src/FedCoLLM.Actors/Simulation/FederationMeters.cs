using System.Diagnostics.Metrics;
using FedCoLLM.Actors.Telemetry;

namespace FedCoLLM.Actors.Simulation;

/// <summary>
/// Listens to the federation's own meter (<see cref="FederationMetrics"/>) in this process and totals what the
/// simulation benches report: journal writes (count, summed latency, by entity, events written), blob bytes received and the time their
/// fetches took. The production code paths only record into their instruments; nothing is added for the bench.
/// </summary>
public sealed class FederationMeters : IDisposable
{
    readonly MeterListener listener = new();
    readonly Lock gate = new();
    readonly Dictionary<string, (long Count, double Seconds)> journal = new(StringComparer.Ordinal);
    long fetches, bytesReceived, journalEvents;
    double fetchSeconds;

    public FederationMeters()
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == FederationMetrics.MeterName
                && instrument.Name is "fedcollm.journal.write.duration" or "fedcollm.journal.write.events" or "fedcollm.blob.fetch.duration" or "fedcollm.blob.transfer")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            lock (gate)
            {
                if (instrument.Name == "fedcollm.blob.fetch.duration")
                {
                    fetches++;
                    fetchSeconds += value;
                    return;
                }
                var entity = "?";
                foreach (var tag in tags) if (tag.Key == "entity") entity = tag.Value as string ?? "?";
                var (count, seconds) = journal.GetValueOrDefault(entity);
                journal[entity] = (count + 1, seconds + value);
            }
        });
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "direction" && tag.Value as string == "received")
                    lock (gate) bytesReceived += value;
        });
        listener.SetMeasurementEventCallback<int>((_, value, _, _) =>
        {
            lock (gate) journalEvents += value;
        });
        listener.Start();
    }

    /// <summary>The totals so far; subtract two snapshots for an interval.</summary>
    public MeterTotals Read()
    {
        lock (gate)
            return new MeterTotals(journal.Values.Sum(v => v.Count), journal.Values.Sum(v => v.Seconds),
                journal.ToDictionary(kv => kv.Key, kv => kv.Value.Count, StringComparer.Ordinal), fetches, fetchSeconds, bytesReceived)
                { JournalEvents = journalEvents };
    }

    public void Dispose() => listener.Dispose();
}

public sealed record MeterTotals(long JournalWrites, double JournalSeconds, IReadOnlyDictionary<string, long> JournalWritesByEntity,
    long Fetches, double FetchSeconds, long BytesFetched)
{
    /// <summary>Events those writes held (a job entity writes the client messages that arrived meanwhile at once).</summary>
    public long JournalEvents { get; init; }

    public MeterTotals Minus(MeterTotals before) => new(JournalWrites - before.JournalWrites, JournalSeconds - before.JournalSeconds,
        JournalWritesByEntity.ToDictionary(kv => kv.Key, kv => kv.Value - before.JournalWritesByEntity.GetValueOrDefault(kv.Key), StringComparer.Ordinal),
        Fetches - before.Fetches, FetchSeconds - before.FetchSeconds, BytesFetched - before.BytesFetched)
    { JournalEvents = JournalEvents - before.JournalEvents };
}

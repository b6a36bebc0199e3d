using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FedCoLLM.Actors.Telemetry;

namespace FedCoLLM.Actors.Tests.Telemetry;

/// <summary>One measurement of the "FedCoLLM" meter: the instrument, the value and its tags.</summary>
sealed record Recorded(string Instrument, double Value, IReadOnlyDictionary<string, string?> Tags);

/// <summary>Listens to the "FedCoLLM" meter for one test, keeping only the measurements tagged with its job id (other
/// tests in the process record into the same static meter).</summary>
sealed class MetricsRecorder : IDisposable
{
    readonly MeterListener listener = new();
    readonly ConcurrentQueue<Recorded> recorded = new();

    public MetricsRecorder(string job)
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == FederationMetrics.MeterName) l.EnableMeasurementEvents(instrument);
        };
        void Keep(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var map = new Dictionary<string, string?>();
            foreach (var (k, v) in tags) map[k] = Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture);
            if (map.GetValueOrDefault("job") == job) recorded.Enqueue(new Recorded(instrument.Name, value, map));
        }
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Keep(i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Keep(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Keep(i, v, t));
        listener.Start();
    }

    public IReadOnlyList<Recorded> Of(string instrument) => recorded.Where(r => r.Instrument == instrument).ToArray();

    public void Dispose() => listener.Dispose();
}

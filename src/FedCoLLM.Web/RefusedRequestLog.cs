using Akka.Event;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using Microsoft.Extensions.Logging;

namespace FedCoLLM.Web;

/// <summary>
/// Puts the requests Kestrel refuses as malformed (400, 414, 431, 505: its "BadRequests" log) into the node's own log,
/// so that hostile traffic at the HTTP port is seen, not swallowed. At most one warning per <see cref="Interval"/>, with
/// the count of refusals since the previous one: a flood of garbage must not fill the disk.
/// </summary>
sealed class RefusedRequestLog(ILoggingAdapter log) : ILoggerProvider
{
    /// <summary>Kestrel's category for connections it refuses before any handler runs.</summary>
    public const string Category = "Microsoft.AspNetCore.Server.Kestrel.BadRequests";
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    readonly object gate = new();
    DateTime last = DateTime.MinValue;
    int unreported;

    public ILogger CreateLogger(string categoryName) =>
        categoryName == Category ? new Refusals(this) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    void Refused(string message)
    {
        int count;
        lock (gate)
        {
            unreported++;
            var now = DateTime.UtcNow;
            if (now - last < Interval) return;
            count = unreported;
            unreported = 0;
            last = now;
        }
        log.Warning("HTTP port refused {0} malformed request(s) since the last report; latest: {1}", count, message);
    }

    public void Dispose() { }

    sealed class Refusals(RefusedRequestLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Refused(formatter(state, exception));
    }
}

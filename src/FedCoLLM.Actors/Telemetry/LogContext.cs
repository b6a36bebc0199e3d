using System.Globalization;
using Akka.Event;
using FedCoLLM.Actors.Hosting;

namespace FedCoLLM.Actors.Telemetry;

/// <summary>
/// The job, round and client a log line is about. Akka.NET has no MDC, so they are read from what every log event
/// carries: the source actor's path, where a job entity (and its worker) lives under a shard region with the job id as
/// entity id (<c>/system/sharding/federation-job/SHARD/JOB</c>) and a client's actor under its silo
/// (<c>/user/client-ID/JOB</c>); and the named properties of a message template (<c>{JobId}</c>, <c>{Round}</c>,
/// <c>{ClientId}</c>), which win over the path.
/// </summary>
public sealed record LogContext(string? Job, int? Round, string? Client)
{
    public static readonly LogContext None = new(null, null, null);

    static readonly string[] JobRegions = [FederationNode.JobRegion, FederationNode.AggregatorRegion];

    public static LogContext Of(LogEvent e)
    {
        var context = FromSource(e.LogSource);
        var properties = PropertiesOf(e);
        string? Text(string name) => properties.TryGetValue(name, out var v) && v is not null ? Convert.ToString(v, CultureInfo.InvariantCulture) : null;
        return new LogContext(
            Text("JobId") ?? context.Job,
            int.TryParse(Text("Round"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var round) ? round : context.Round,
            Text("ClientId") ?? context.Client);
    }

    /// <summary>The message template's properties by name (positional templates name them "0", "1", …); none for a message
    /// that is not a template, or whose holes and arguments disagree.</summary>
    public static IReadOnlyDictionary<string, object?> PropertiesOf(LogEvent e)
    {
        if (e.Message is not LogMessage message) return Empty;
        try
        {
            return message.GetProperties()!;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or IndexOutOfRangeException)
        {
            return Empty;
        }
    }

    static readonly IReadOnlyDictionary<string, object?> Empty = new Dictionary<string, object?>();

    /// <summary>The job and client an actor path (or any log source string) names; <see cref="None"/> when it names neither.</summary>
    public static LogContext FromSource(string? source)
    {
        if (string.IsNullOrEmpty(source)) return None;
        // Akka's log source may be "akka://sys/user/a" or "akka.tcp://sys@host:port/user/a", possibly with "#uid" or a
        // "(class)" suffix; only the path's elements matter.
        var path = source;
        var scheme = path.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            var slash = path.IndexOf('/', scheme + 3);
            path = slash < 0 ? "" : path[slash..];
        }
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => Uri.UnescapeDataString(s.Split('#')[0])).ToArray();

        // /system/sharding/REGION/SHARD/ENTITY[/...]
        var sharding = Array.IndexOf(segments, "sharding");
        if (sharding >= 0 && segments.Length > sharding + 3 && JobRegions.Contains(segments[sharding + 1]))
            return new LogContext(segments[sharding + 3], null, null);

        // /user/client-ID[/JOB[/...]]
        var user = Array.IndexOf(segments, "user");
        if (user >= 0 && segments.Length > user + 1 && segments[user + 1].StartsWith("client-", StringComparison.Ordinal))
            return new LogContext(segments.Length > user + 2 ? segments[user + 2] : null, null, segments[user + 1]["client-".Length..]);
        return None;
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace FedCoLLM.Actors.Telemetry;

/// <summary>
/// Akka's log as JSON lines on standard error, one object per event, for log collectors (<c>fedcollm.log-format =
/// json</c>, or FEDCOLLM_LOG_FORMAT=json; <see cref="Hosting.FederationConfig"/> installs it). Fields: timestamp (UTC,
/// ISO 8601), level, logger (the source: an actor path or a class), class, thread, message, then job, round and client
/// where <see cref="LogContext"/> finds them, the template's named properties, and error (the exception) when there is
/// one. Standard output stays the command's own.
/// </summary>
public sealed class JsonLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>HOCON that installs this logger (laid over a node's configuration).</summary>
    public const string Config = """akka.loggers = ["FedCoLLM.Actors.Telemetry.JsonLogger, FedCoLLM.Actors"]""";

    public JsonLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Console.Error.WriteLine(Format(e)));
    }

    /// <summary>One log event as one line of JSON (no line breaks inside: they are escaped).</summary>
    public static string Format(LogEvent e)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("timestamp", e.Timestamp.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("level", Level(e.LogLevel()));
            json.WriteString("logger", e.LogSource);
            if (e.LogClass is { } type) json.WriteString("class", type.FullName);
            json.WriteNumber("thread", e.Thread.ManagedThreadId);
            json.WriteString("message", Message(e));
            var context = LogContext.Of(e);
            if (context.Job is { } job) json.WriteString("job", job);
            if (context.Round is { } round) json.WriteNumber("round", round);
            if (context.Client is { } client) json.WriteString("client", client);
            WriteProperties(json, e);
            if (e.Cause is { } cause) json.WriteString("error", cause.ToString());
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    static string Message(LogEvent e)
    {
        try
        {
            return e.Message?.ToString() ?? "";
        }
        catch (FormatException)
        {
            return e.Message is LogMessage m ? m.Format : "";
        }
    }

    /// <summary>A named template's properties ({Round}, {Phase}, …); positional templates ({0}) have none worth naming.</summary>
    static void WriteProperties(Utf8JsonWriter json, LogEvent e)
    {
        var named = LogContext.PropertiesOf(e).Where(p => p.Key.Length > 0 && !char.IsDigit(p.Key[0])).ToArray();
        if (named.Length == 0) return;
        json.WriteStartObject("properties");
        foreach (var (name, value) in named)
        {
            if (value is null) json.WriteNull(name);
            else if (value is int or long or short or byte) json.WriteNumber(name, Convert.ToInt64(value, CultureInfo.InvariantCulture));
            else if (value is double d && double.IsFinite(d)) json.WriteNumber(name, d);
            else json.WriteString(name, Convert.ToString(value, CultureInfo.InvariantCulture));
        }
        json.WriteEndObject();
    }

    static string Level(LogLevel level) => level switch
    {
        LogLevel.DebugLevel => "debug",
        LogLevel.InfoLevel => "info",
        LogLevel.WarningLevel => "warning",
        LogLevel.ErrorLevel => "error",
        _ => level.ToString().ToLowerInvariant(),
    };
}

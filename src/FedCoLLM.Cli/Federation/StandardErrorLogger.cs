using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// Akka's log on stderr. Akka's default logger prints to stdout, so a visiting node's warnings (e.g. remoting's "Unable
/// to REMOVE channel" as it leaves the cluster) landed after the JSON of <c>jobs --json</c> and <c>status --json</c> and
/// broke every script reading it. The verbs' own output stays alone on stdout.
/// </summary>
public sealed class StandardErrorLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>HOCON that installs this logger and keeps Akka's start-up and shutdown logger (stdout) silent.</summary>
    public const string Config = """
        akka.loggers = ["FedCoLLM.Cli.Federation.StandardErrorLogger, fedcollm"]
        akka.stdout-loglevel = OFF
        """;

    public StandardErrorLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Console.Error.WriteLine(e.ToString()));
    }
}

using Akka.Event;

namespace FedCoLLM.Actors.Tests.Telemetry;

/// <summary>A log message exactly as an actor's <c>log.Info(template, args)</c> builds it (Akka's own message classes
/// are internal), captured from a logging adapter instead of published.</summary>
static class TemplateMessages
{
    public static object Of(string template, params object[] args)
    {
        var adapter = new Capturing();
        adapter.Info(template, args);
        return adapter.Message!;
    }

    sealed class Capturing() : LoggingAdapterBase(SemanticLogMessageFormatter.Instance)
    {
        public object? Message;
        public override bool IsDebugEnabled => true;
        public override bool IsInfoEnabled => true;
        public override bool IsWarningEnabled => true;
        public override bool IsErrorEnabled => true;
        protected override void NotifyLog(LogLevel logLevel, object message, Exception? cause = null) => Message = message;
    }
}

namespace FedCoLLM.Actors.Jobs;

/// <summary>A job file (or a canonical job) that cannot be obeyed. <see cref="Key"/> is the dotted job-file key at
/// fault (e.g. <c>job.distillation.temperature</c>); the message names it and says how to fix it.</summary>
public sealed class JobFileException(string key, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Key { get; } = key;
}

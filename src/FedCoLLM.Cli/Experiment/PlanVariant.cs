namespace FedCoLLM.Cli.Experiment;

/// <summary>
/// How one run of an <see cref="ExperimentPlan"/> differs from the plain experiment: a prefix for its job ids (the tuning
/// runs share the experiment's journal, so their ids must not collide with the reported jobs'), the folder its job files
/// go to, and job-file lines per method, appended last so they win (a tuning cell, or each method's chosen cell).
/// </summary>
public sealed record PlanVariant(string JobPrefix, string? JobsDirectory, Func<Method, IReadOnlyList<string>> MethodLines)
{
    public static readonly PlanVariant None = new("", null, _ => []);
}

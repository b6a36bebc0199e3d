using FedCoLLM.Actors.Rounds;
using FedCoLLM.Learning.Federation;

namespace FedCoLLM.Actors.Workers;

/// <summary>A held-out test file the server scores both models on after each round.</summary>
public sealed record EvaluationSet(string Name, string Path);

/// <summary>What the server-side steps read: the public (auxiliary) set and the evaluation sets.</summary>
public sealed record ServerData(string PublicSetPath, IReadOnlyList<EvaluationSet> EvaluationSets, int? MaxEvaluationItems = null)
{
    /// <summary>When set, evaluation also scores both models on the first this-many public questions (metric
    /// <c>…/acc/public</c>): the set the distillation trains on, so it shows how far the two models agree there.</summary>
    public int? PublicEvaluationItems { get; init; }
    /// <summary>The server's training set of <see cref="Strategies.Operations.FineTuneLlm"/> (the Centralized reference's pooled data).</summary>
    public string? LlmTrainingSetPath { get; init; }
    /// <summary>Whether initialisation scores the pre-trained models (round 0, zero-shot).</summary>
    public bool ScoreBaseline { get; init; } = true;
    /// <summary>Whether evaluation scores the LLM too; strategies that never train it leave it at zero-shot.</summary>
    public bool EvaluateLlm { get; init; } = true;
}

/// <summary>Everything a node needs to run the steps of one job: the learning core built from the job's definition, the
/// server's files, and a check that this node's copy of a model is the one the job names.</summary>
public sealed class JobSetup(FederationSteps steps, ServerData? server, Func<ModelKind, string?> verifyModel, Func<string?> verifyServerFiles) : IDisposable
{
    readonly HashSet<ModelKind> verified = [];
    bool serverVerified;

    public FederationSteps Steps => steps;

    /// <summary>The learning core, after checking that this node's files of <paramref name="kind"/> match the job.</summary>
    public FederationSteps For(StepRequest request, params ModelKind[] kinds)
    {
        lock (verified)
            foreach (var kind in kinds)
                if (!verified.Contains(kind))
                {
                    if (verifyModel(kind) is { } problem) throw new StepRefusedException($"{request}: refused, {problem}");
                    verified.Add(kind);
                }
        return steps;
    }

    /// <summary>The server's files, after checking they match the job's fingerprints.</summary>
    public ServerData Server(StepRequest request)
    {
        var data = server ?? throw new StepRefusedException($"{request}: this job has no server data; server steps run on server-role nodes.");
        lock (verified)
        {
            if (!serverVerified && verifyServerFiles() is { } problem) throw new StepRefusedException($"{request}: refused, {problem}");
            serverVerified = true;
        }
        return data;
    }

    public void Dispose() => steps.Dispose();
}

/// <summary>A node's local files are not the ones the job was submitted with; retrying cannot help until they are replaced.</summary>
public sealed class StepRefusedException(string message) : Exception(message);

/// <summary>Finds the setup of the job a step obeys (by <see cref="StepRequest.Spec"/>).</summary>
public interface IJobSetups
{
    JobSetup For(StepRequest request);
}

/// <summary>One setup for every step, whatever its spec: hosts and tests that run a single, fixed job.</summary>
public sealed class FixedJobSetup(JobSetup setup) : IJobSetups
{
    public JobSetup For(StepRequest request) => setup;
}

// TEMPORARY STUB (replaced by the jobfile branch)
using FedCoLLM.Learning.Federation;
namespace FedCoLLM.Actors.Jobs;
public sealed record JobEvaluationSet(string Name, string Path);
public sealed record JobEvaluation(IReadOnlyList<JobEvaluationSet> Sets, int? MaxItems, int? PublicItems, bool ScoreBaseline, bool EvaluateLlm);
public sealed record JobDefinition
{
    public string Id { get; init; } = "";
    public string Strategy { get; init; } = "";
    public int Rounds { get; init; }
    public long Seed { get; init; }
    public IReadOnlyList<string> Enrolled { get; init; } = [];
    public int Quorum { get; init; }
    public TimeSpan ClientTrainingDeadline { get; init; }
    public TimeSpan AggregationDeadline { get; init; }
    public int MaxRoundAttempts { get; init; }
    public string PublicSetPath { get; init; } = "";
    public string? ServerTrainingSetPath { get; init; }
    public JobEvaluation Evaluation { get; init; } = null!;
    public byte[] CanonicalBytes() => throw new NotImplementedException();
    public static JobDefinition FromCanonicalBytes(byte[] bytes) => throw new NotImplementedException();
    public FederationSetup ToSetup() => throw new NotImplementedException();
    public string? VerifyModelFiles(ModelKind kind) => throw new NotImplementedException();
    public string? VerifyServerFiles() => throw new NotImplementedException();
}
public sealed class JobFileException(string key, string message) : Exception(message) { public string Key => key; }
public static class JobFile
{
    public static JobDefinition Load(string path, IReadOnlyCollection<string> strategies) => throw new NotImplementedException();
    public static JobDefinition Parse(string text, string source, IReadOnlyCollection<string> strategies) => throw new NotImplementedException();
}

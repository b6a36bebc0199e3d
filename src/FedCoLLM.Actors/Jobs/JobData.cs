using FedCoLLM.Learning.Data;

namespace FedCoLLM.Actors.Jobs;

/// <summary>A data file the server reads: its path as written in the job and its SHA-256.</summary>
public sealed record JobDataFile(string Path, string Sha256);

/// <summary>A held-out set the server scores both models on after each round.</summary>
public sealed record JobEvaluationSet(string Name, string Path, string Sha256);

/// <summary><c>job.data.evaluation</c>: what the server scores and how much of it.</summary>
public sealed record JobEvaluation(
    IReadOnlyList<JobEvaluationSet> Sets, int? MaxItems, int? PublicItems, int BatchSize, bool ScoreBaseline, bool EvaluateLlm);

/// <summary><c>job.data</c>: the prompt every phase shares (inlined), the sequence length, and the server's files.
/// <see cref="ServerTrainingSet"/> is set only for strategy centralized.</summary>
public sealed record JobData(QaPromptFormat Prompt, int MaxLength, JobDataFile PublicSet, JobDataFile? ServerTrainingSet, JobEvaluation Evaluation);

using FedCoLLM.Learning.Federation;

namespace FedCoLLM.Actors.Jobs;

/// <summary>A base model of the job: its directory as written in the job file, the directory's content hash
/// (<see cref="DirectoryFingerprint.Hash"/>) and every file's SHA-256 by relative name (ordinal order).</summary>
public sealed record JobModel(string Path, string Sha256, IReadOnlyDictionary<string, string> Files);

/// <summary><c>job.models</c>: the clients' small LM and the server's LLM.</summary>
public sealed record JobModels(JobModel Slm, JobModel Llm)
{
    public JobModel Of(ModelKind kind) => kind == ModelKind.Slm ? Slm : Llm;
}

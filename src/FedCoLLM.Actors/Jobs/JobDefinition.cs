using FedCoLLM.Learning.Lora;
using System.Security.Cryptography;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Actors.Jobs;

/// <summary>
/// The canonical form of a job file: every key defaulted, paths as written (a relative path resolves against the
/// current directory of the node that reads it, so it is never made absolute here), the prompt inlined, and the content
/// hashes of the models and the server's data files taken when the file was loaded. Every node of a federation obeys
/// the same definition; two definitions are equal exactly when their <see cref="CanonicalBytes"/> are.
/// </summary>
public sealed record JobDefinition
{
    public required string Id { get; init; }
    public required string Strategy { get; init; }
    public required int Rounds { get; init; }
    public required long Seed { get; init; }
    public required JobModels Models { get; init; }
    public required JobLora Lora { get; init; }
    public required JobTraining Training { get; init; }
    public required DistillationSettings Distillation { get; init; }
    public required JobData Data { get; init; }

    /// <summary>The client ids, in ordinal order (the order aggregation takes its inputs in).</summary>
    public required IReadOnlyList<string> Enrolled
    {
        get;
        init => field = value.Order(StringComparer.Ordinal).ToArray();
    }

    public required int Quorum { get; init; }

    /// <summary>Each enrolled client's Ed25519 public key (<see cref="Identity.ClientPublicKey"/> text), by client id; empty
    /// for a job that enrols no keys (its updates are unsigned; see docs/jobs.md, <c>clients.public-keys</c>).</summary>
    public IReadOnlyDictionary<string, string> PublicKeys { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
    public required TimeSpan ClientTrainingDeadline { get; init; }
    public required TimeSpan AggregationDeadline { get; init; }
    public required int MaxRoundAttempts { get; init; }
    public required JobCompute Compute { get; init; }
    /// <summary>The <c>secure-aggregation*</c> keys; null when <c>secure-aggregation = off</c> (the default).</summary>
    public JobSecureAggregation? SecureAggregation { get; init; }
    /// <summary><c>job.updates</c>: the bounds a client update must meet before a round takes it.</summary>
    public JobUpdates Updates { get; init; } = JobUpdates.Default;
    /// <summary><c>job.adapters.wire-dtype</c>: the dtype client updates and the broadcast SLM adapter are stored and sent in
    /// (float32 by default; bfloat16 or float16 halve their bytes). It changes bytes, so it comes only from the job file.</summary>
    public AdapterWireDtype AdapterWireDtype { get; init; } = AdapterWireDtype.Float32;

    public string PublicSetPath => Data.PublicSet.Path;
    public string? ServerTrainingSetPath => Data.ServerTrainingSet?.Path;
    public JobEvaluation Evaluation => Data.Evaluation;

    /// <summary>UTF-8 JSON with the job file's keys in a fixed order (see docs/jobs.md).</summary>
    public byte[] CanonicalBytes() => CanonicalJson.Write(this);

    /// <summary>Lower-hex SHA-256 of <see cref="CanonicalBytes"/>: the job's identity across nodes.</summary>
    public string Hash => Convert.ToHexStringLower(SHA256.HashData(CanonicalBytes()));

    /// <summary>Reads bytes written by <see cref="CanonicalBytes"/>; bytes that are not exactly canonical are refused, so a
    /// definition's hash is always the hash of the bytes it came from.</summary>
    public static JobDefinition FromCanonicalBytes(byte[] bytes) => CanonicalJson.Read(bytes);

    /// <summary>Null when equal; else the first differing key as a dotted job-file path with both values, e.g.
    /// <c>distillation.temperature (1 vs 2)</c>.</summary>
    public string? FirstDifference(JobDefinition other) => CanonicalJson.FirstDifference(CanonicalBytes(), other.CanonicalBytes());

    public bool Equals(JobDefinition? other) => other is not null && CanonicalBytes().AsSpan().SequenceEqual(other.CanonicalBytes());

    public override int GetHashCode() => Hash.GetHashCode(StringComparison.Ordinal);

    /// <summary>The learning core's setup of this job.</summary>
    public FederationSetup ToSetup() => new()
    {
        SlmDirectory = Models.Slm.Path,
        LlmDirectory = Models.Llm.Path,
        SlmLora = Lora.Slm,
        LlmLora = Lora.Llm,
        Prompt = Data.Prompt,
        MaxLength = Data.MaxLength,
        ClientTraining = Training.Client.ToSettings(Data.MaxLength),
        SlmDistillation = Training.SlmDistillation.ToSettings(Data.MaxLength),
        LlmDistillation = Training.LlmDistillation.ToSettings(Data.MaxLength),
        LlmFineTuning = Training.LlmFineTuning?.ToSettings(Data.MaxLength),
        Distillation = Distillation,
        TopK = Distillation.Kd.TopK,
        EvalBatchSize = Data.Evaluation.BatchSize,
        MaxClientExamples = Training.Client.MaxExamples,
        MaxPublicExamples = Training.SlmDistillation.MaxExamples,
        Compute = new ComputeOptions(Compute.Device, Compute.Threads, Seed),
        SlmWireDtype = AdapterWireDtype,
    };

    /// <summary>Re-hashes this node's copy of the model directory; null when it is the job's model, else a message
    /// naming the first file that differs, is missing or is extra.</summary>
    public string? VerifyModelFiles(ModelKind kind)
    {
        var model = Models.Of(kind);
        var key = kind == ModelKind.Slm ? "models.slm" : "models.llm";
        if (!Directory.Exists(model.Path))
            return $"{key}: {model.Path} does not exist on this node (relative paths resolve against {Environment.CurrentDirectory}); put the job's model there";
        var difference = DirectoryFingerprint.FirstDifference(DirectoryFingerprint.Files(model.Path), model.Files);
        return difference is null ? null : $"{key}: {difference}; the node's copy of {model.Path} is not the model the job was submitted with";
    }

    /// <summary>Re-hashes this node's copies of the public set, the server training set and the evaluation sets; null
    /// when all are the job's files, else a message naming the first that differs or is missing.</summary>
    public string? VerifyServerFiles()
    {
        var files = new List<(string Key, string Path, string Sha256)> { ("data.public-set", Data.PublicSet.Path, Data.PublicSet.Sha256) };
        if (Data.ServerTrainingSet is { } training) files.Add(("data.server-training-set", training.Path, training.Sha256));
        files.AddRange(Data.Evaluation.Sets.Select((s, i) => ($"data.evaluation.sets[{i}] ({s.Name})", s.Path, s.Sha256)));
        foreach (var (key, path, expected) in files)
        {
            if (!File.Exists(path))
                return $"{key}: {path} does not exist on this node (relative paths resolve against {Environment.CurrentDirectory}); put the job's file there";
            var local = DirectoryFingerprint.OfFile(path);
            if (local != expected)
                return $"{key}: file {path} differs from the job (local {DirectoryFingerprint.Short(local)}, job {DirectoryFingerprint.Short(expected)}); the node's copy is not the file the job was submitted with";
        }
        return null;
    }
}

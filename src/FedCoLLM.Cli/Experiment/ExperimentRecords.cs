using System.Text.Json;
using System.Text.Json.Nodes;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Serialization;
using FedCoLLM.Learning.Lora;

namespace FedCoLLM.Cli.Experiment;

/// <summary>
/// RECORDS/JOB.json (RECORDS is OUT/records unless <c>--records</c> names another folder): a finished job's final round state (the journal's own snapshot JSON, manifest
/// <see cref="StateManifest"/>), its wall time and its final SLM adapter's parameter count. A job whose record is there
/// and names the same job definition is not submitted again, so an experiment resumes from its records alone: a few KB
/// per job that can be kept (committed) when the journal and blob store, tens of MB, cannot. The report reads only
/// what the records and journal hold, so its numbers are the same either way.
/// </summary>
public static class ExperimentRecords
{
    public const string Format = "fedcollm-experiment-record/v1";
    const string StateManifest = "round-state/v2";

    public static string DefaultDirectory(string outDir) => Path.Combine(outDir, "records");

    static string PathOf(string recordsDir, string jobId) => Path.Combine(recordsDir, jobId + ".json");

    /// <summary>Writes the record of a completed job (atomically: a stopped write leaves no half record).</summary>
    public static void Write(string recordsDir, ExperimentJob job, RoundState state, TimeSpan? wall, IBlobStore store)
    {
        if (state.Phase != RoundPhase.Completed) throw new ArgumentException($"Job {job.JobId} is {state.Phase}; only completed jobs have records.", nameof(state));
        long? parameters = state.History.Count > 0 ? CountInStore(store, state.History[^1].Slm) : null;
        var record = new JsonObject
        {
            ["format"] = Format,
            ["job_id"] = job.JobId,
            ["definition_sha256"] = job.Spec.DefinitionRef.Sha256,
            ["wall_seconds"] = wall?.TotalSeconds,
            ["slm_adapter"] = state.History.Count == 0 ? null : new JsonObject
            {
                ["sha256"] = state.History[^1].Slm.Sha256,
                ["parameters"] = parameters,
            },
            ["state_manifest"] = StateManifest,
            ["state"] = JsonSerializer.SerializeToNode(state, RoundEventSerializer.Json),
        };
        Directory.CreateDirectory(recordsDir);
        var path = PathOf(recordsDir, job.JobId);
        File.WriteAllText(path + ".tmp", record.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>The record of <paramref name="job"/> when there is one for this very definition; null when there is none, or
    /// when it was made for another definition (then the job runs again and its new record replaces it).</summary>
    /// <exception cref="InvalidDataException">The record is unreadable; the message names the file, the field and the fix.</exception>
    public static (RoundState State, TimeSpan? Wall)? Read(string recordsDir, ExperimentJob job, Action<string> warn)
    {
        var path = PathOf(recordsDir, job.JobId);
        if (!File.Exists(path)) return null;
        var record = Parse(path);
        var sha = Field(record, path, "definition_sha256");
        if (sha != job.Spec.DefinitionRef.Sha256)
        {
            warn($"{path} records another definition of {job.JobId} (definition_sha256 {sha[..Math.Min(12, sha.Length)]}…, the job file's is "
                 + $"{job.Spec.DefinitionRef.Sha256[..12]}…); the job runs again and replaces it.");
            return null;
        }
        RoundState state;
        try
        {
            state = (RoundState)RoundEventSerializer.Read(
                JsonSerializer.SerializeToUtf8Bytes(record["state"] ?? throw Bad(path, "state", "is missing")), Field(record, path, "state_manifest"));
        }
        catch (System.Runtime.Serialization.SerializationException e)
        {
            throw Bad(path, "state", $"is not a readable round state ({e.Message})");
        }
        if (state.Phase != RoundPhase.Completed || state.Job?.JobId != job.JobId)
            throw Bad(path, "state", $"is a {state.Phase} state of job {state.Job?.JobId ?? "(none)"}, not the completed state of {job.JobId}");
        var seconds = record["wall_seconds"]?.GetValue<double>();
        return (state, seconds is double s ? TimeSpan.FromSeconds(s) : null);
    }

    /// <summary>Counts an adapter's parameters from the blob store, or from the record of the job whose final SLM adapter
    /// it is when the store no longer holds it (an experiment resumed from records alone).</summary>
    public static long AdapterParameters(string recordsDir, IBlobStore store, BlobRef adapter)
    {
        if (CountInStore(store, adapter) is long counted) return counted;
        if (Directory.Exists(recordsDir))
            foreach (var path in Directory.EnumerateFiles(recordsDir, "*.json"))
                if (Parse(path)["slm_adapter"] is JsonObject slm && slm["sha256"]?.GetValue<string>() == adapter.Sha256
                    && slm["parameters"]?.GetValue<long>() is long n)
                    return n;
        throw new InvalidDataException($"Adapter {adapter} is neither in the blob store nor counted in any record under {recordsDir}; rerun the job that made it (delete its record).");
    }

    static long? CountInStore(IBlobStore store, BlobRef adapter) =>
        store.Contains(adapter) ? AdapterWeights.FromBytes(store.Read(adapter), adapter.ToString()).ParameterCount : null;

    static JsonObject Parse(string path)
    {
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw Bad(path, "(root)", "is not a JSON object");
            var format = node["format"]?.GetValue<string>();
            if (format != Format) throw Bad(path, "format", $"= \"{format}\", not \"{Format}\"");
            return node;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw Bad(path, "(file)", $"is not valid JSON ({e.Message})");
        }
    }

    static string Field(JsonObject record, string path, string name) =>
        (record[name] as JsonValue)?.TryGetValue<string>(out var v) == true && v.Length > 0 ? v : throw Bad(path, name, "is missing");

    static InvalidDataException Bad(string path, string field, string problem) =>
        new($"Experiment record {path}: {field} {problem}. Delete the file to run that job again.");
}

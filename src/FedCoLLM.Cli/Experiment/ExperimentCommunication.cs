using System.Text;
using System.Text.Json.Nodes;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Learning.Checkpoints;

namespace FedCoLLM.Cli.Experiment;

/// <summary>
/// The experiment's communication table: bytes measured by the transfer layer (<see cref="RoundState.Transfers"/>, journaled
/// per client, round and direction), per method, as medians over its jobs' clients (and rounds); the adapter's size, which is
/// what the table used to derive everything from, stays as a cross-check column.
/// </summary>
public static class ExperimentCommunication
{
    /// <summary>One method's measured traffic per client. Up: its update per round. Down: the broadcast distilled adapter per
    /// round, the starting adapter of round 1, the job definition, and the final download (the last round's broadcast).
    /// Total: everything one client moved in one job. <paramref name="FinalReported"/> of <paramref name="ClientJobs"/>
    /// client-jobs reported their final download.
    /// <paramref name="Jobs"/> of the method's <paramref name="AllJobs"/> were measured alone (<see cref="MeasuredAlone"/>);
    /// the figures come from those only.</summary>
    public sealed record MethodTraffic(Method Method, int Jobs, int AllJobs, long? UpPerRound, long? BroadcastPerRound, long? InitialAdapter,
        long? Definition, long? FinalDownload, long? TotalPerJob, int FinalReported, int ClientJobs);

    public sealed record Communication(IReadOnlyList<MethodTraffic> Methods, long AdapterBytes, long AdapterParameters, long SlmParameters, long LlmParameters)
    {
        public double FractionOfSlm => AdapterBytes / (4.0 * SlmParameters);
        public double FractionOfLlm => AdapterBytes / (4.0 * LlmParameters);
    }

    public static Communication? Accounting(IReadOnlyList<(ExperimentJob Job, RoundState State, TimeSpan? Wall)> runs, string recordsDir, IBlobStore store, Learning.Federation.FederationSetup models)
    {
        var fed = runs.FirstOrDefault(r => r.Job.Method is Method.FedCoLLM or Method.FedAvg && r.State.History.Count > 0);
        if (fed.State is null) return null;
        var slm = fed.State.History[^1].Slm;
        var methods = runs.Where(r => !r.State.Transfers.IsEmpty).GroupBy(r => r.Job.Method)
            .Select(g => Traffic(g.Key, g.Select(r => r.State).Where(MeasuredAlone).ToArray(), g.Count())).ToArray();
        return new Communication(methods, slm.Size, ExperimentRecords.AdapterParameters(recordsDir, store, slm),
            SafeTensorParameters(Path.Combine(models.SlmDirectory, "model.safetensors")),
            SafeTensorParameters(Path.Combine(models.LlmDirectory, "model.safetensors")));
    }

    /// <summary>
    /// Whether every client transfer of the job went through the transfer layer. The jobs of one experiment share the
    /// server's and each client's blob store, and a blob already there is not moved again (content addressing): a job
    /// whose round-1 update is byte-identical to an earlier job's (same seed, starting adapter, data and learning rate,
    /// e.g. an ablation and FedCoLLM, or a test job and its tuning cell) or that resumed after a restart counts 0 bytes for
    /// it, and may not report downloads its client already held. Those counters say what the experiment moved, not what
    /// the job needs on its own, so they are left out. The one expected zero is a download of the client's own update
    /// (Standalone's round result), which no deployment moves either. A client fetches the adapter its first training
    /// round starts from (<see cref="ClientTransfer.GlobalSlm"/>); one that already held it (the seed's starting adapter,
    /// the same in every method of that seed) reports nothing, so a missing one marks the job too.
    /// </summary>
    public static bool MeasuredAlone(RoundState job)
    {
        var own = job.Transfers.Where(t => t.Direction == ClientTransfer.Up).Select(t => (t.ClientId, t.Blob.Sha256)).ToHashSet();
        var starts = job.Transfers.Where(t => t.What == ClientTransfer.GlobalSlm).Select(t => (t.ClientId, t.Round)).ToHashSet();
        var firstUpdates = job.Transfers.Where(t => t.What == ClientTransfer.Update).GroupBy(t => t.ClientId).Select(g => (g.Key, g.Min(t => t.Round)));
        return job.Transfers.All(t => t.Count.Transfers > 0 || (t.Direction == ClientTransfer.Down && own.Contains((t.ClientId, t.Blob.Sha256))))
            && firstUpdates.All(starts.Contains);
    }

    static MethodTraffic Traffic(Method method, IReadOnlyList<RoundState> jobs, int allJobs)
    {
        // Per (job, round, client) or (job, client) sums, so a retried transfer shows in the figure it belongs to.
        long? PerRound(Func<ClientTransfer, bool> which) => Median(jobs.SelectMany(s => s.Transfers.Where(which)
            .GroupBy(t => (t.Round, t.ClientId)).Select(g => g.Sum(t => t.Count.Bytes))));
        long? PerClientJob(IEnumerable<IEnumerable<ClientTransfer>> perJob) => Median(perJob.SelectMany(ts => ts
            .GroupBy(t => t.ClientId).Select(g => g.Sum(t => t.Count.Bytes))));
        var finals = jobs.SelectMany(CommunicationSummary.FinalDownloads).ToArray();
        return new MethodTraffic(method, jobs.Count, allJobs,
            PerRound(t => t.Direction == ClientTransfer.Up),
            PerRound(t => t.What == ClientTransfer.Broadcast),
            PerClientJob(jobs.Select(s => s.Transfers.Where(t => t.What == ClientTransfer.GlobalSlm && t.Round == 1))),
            PerClientJob(jobs.Select(s => s.Transfers.Where(t => t.What == ClientTransfer.Definition))),
            Median(finals.Where(f => f.Download is not null).Select(f => f.Download!.Count.Bytes)),
            PerClientJob(jobs.Select(s => s.Transfers.AsEnumerable())),
            finals.Count(f => f.Download is not null), finals.Length);
    }

    static long? Median(IEnumerable<long> values)
    {
        var v = values.Order().ToArray();
        return v.Length == 0 ? null : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    /// <summary>Element count of every tensor in a safetensors file, from its header (no tensor is loaded).</summary>
    static long SafeTensorParameters(string path) =>
        SafeTensors.ReadHeader(path).Entries.Sum(e => e.Shape.Aggregate(1L, (p, d) => p * d));

    static string B(long? bytes) => bytes is null ? "–" : $"{bytes:N0}";

    public static void Markdown(StringBuilder md, Communication comm)
    {
        md.AppendLine().AppendLine("## Communication per client (measured, bytes)").AppendLine();
        md.AppendLine("Payload bytes counted by the transfer layer (the server counts each update it fetches; each client counts what it fetches "
            + "and reports it), medians over each method's clients, rounds and seeds. A retried transfer counts twice; remoting framing is not included. "
            + "Only jobs measured alone count (*jobs*: measured alone / all): the experiment's jobs share the blob stores, and a blob an earlier "
            + "job (or the same job before a restart) had already stored is not moved again, so such a job's counters understate what it needs; "
            + "an ablation's round-1 updates, for one, are byte-identical to FedCoLLM's of the same seed. "
            + "*final* is the last round's distilled SLM adapter, which every client takes home at the end of the job. "
            + $"*adapter (derived)* is the SLM LoRA adapter's size, the figure this table used to derive everything from: {comm.AdapterBytes:N0} bytes, "
            + $"{100 * comm.FractionOfSlm:F2} % of the full SLM and {100 * comm.FractionOfLlm:F2} % of the full LLM (fp32).").AppendLine();
        md.AppendLine("| method | jobs | up per round | down per round (broadcast) | down: round-1 adapter | down: job definition | final download | total per client per job | adapter (derived) |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var m in comm.Methods)
            md.AppendLine($"| {m.Method} | {m.Jobs} / {m.AllJobs} | {B(m.UpPerRound)} | {B(m.BroadcastPerRound)} | {B(m.InitialAdapter)} | {B(m.Definition)} | "
                + $"{B(m.FinalDownload)} ({m.FinalReported}/{m.ClientJobs} reported) | {B(m.TotalPerJob)} | {comm.AdapterBytes:N0} |");
        if (comm.Methods.Count == 0) md.AppendLine("| (no job measured a transfer: the journal predates the counters) | | | | | | | | |");
        md.AppendLine().AppendLine($"LoRA parameters {comm.AdapterParameters:N0}; SLM {comm.SlmParameters:N0}, LLM {comm.LlmParameters:N0} parameters.");
    }

    public static JsonObject Json(Communication comm) => new()
    {
        ["measured_by"] = "transfer layer: payload bytes received; medians per client over each method's jobs measured alone (every transfer moved, none served from a blob an earlier job stored) and rounds; retries count twice; framing excluded",
        ["methods"] = new JsonArray(comm.Methods.Select(m => (JsonNode)new JsonObject
        {
            ["method"] = ExperimentPlan.Slug(m.Method),
            ["jobs_measured_alone"] = m.Jobs,
            ["jobs"] = m.AllJobs,
            ["up_bytes_per_client_round"] = m.UpPerRound,
            ["broadcast_bytes_per_client_round"] = m.BroadcastPerRound,
            ["initial_adapter_bytes_per_client"] = m.InitialAdapter,
            ["job_definition_bytes_per_client"] = m.Definition,
            ["final_download_bytes_per_client"] = m.FinalDownload,
            ["final_downloads_reported"] = m.FinalReported,
            ["client_jobs"] = m.ClientJobs,
            ["total_bytes_per_client_job"] = m.TotalPerJob,
        }).ToArray()),
        ["adapter_bytes_derived"] = comm.AdapterBytes,
        ["adapter_parameters"] = comm.AdapterParameters,
        ["slm_parameters"] = comm.SlmParameters,
        ["llm_parameters"] = comm.LlmParameters,
        ["adapter_fraction_of_slm_fp32"] = comm.FractionOfSlm,
        ["adapter_fraction_of_llm_fp32"] = comm.FractionOfLlm,
    };
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Cli.Federation;

/// <summary>report.json and report.md of a run, built from the persisted round history only, so a resumed
/// run and `fedcollm status` report exactly what the journal holds.</summary>
public static class RunReport
{
    public static JsonObject Json(RoundState state, TimeSpan? wall = null)
    {
        var job = state.Job!;
        var rounds = new JsonArray();
        foreach (var r in state.History)
            rounds.Add(new JsonObject
            {
                ["round"] = r.Round,
                ["attempt"] = r.Attempt,
                ["participants"] = new JsonArray(r.Participants.Select(p => (JsonNode)p).ToArray()),
                ["missing"] = new JsonArray(r.Missing.Select(p => (JsonNode)p).ToArray()),
                ["slm_adapter_sha256"] = r.Slm.Sha256,
                ["llm_adapter_sha256"] = r.Llm.Sha256,
                ["committed_at"] = r.At.ToString("O", CultureInfo.InvariantCulture),
                ["metrics"] = Metrics(r.Metrics),
            });
        var last = state.History.LastOrDefault();
        var report = new JsonObject
        {
            ["job"] = job.JobId,
            ["status"] = state.Phase.ToString(),
            ["clients"] = new JsonArray(job.ClientIds.Select(c => (JsonNode)c).ToArray()),
            ["rounds_planned"] = job.Rounds,
            ["seed"] = job.Seed,
            ["strategy"] = job.Strategy,
            ["spec_sha256"] = job.DefinitionRef.Sha256,
            ["baseline"] = Metrics(state.Baseline),
            ["rounds"] = rounds,
            ["final"] = last is null ? null : new JsonObject
            {
                ["round"] = last.Round,
                ["slm_adapter_sha256"] = last.Slm.Sha256,
                ["llm_adapter_sha256"] = last.Llm.Sha256,
            },
        };
        report["communication"] = CommunicationJson(state);
        if (state.FailureReason is not null) report["failure"] = state.FailureReason;
        if (wall is not null) report["wall_seconds_this_invocation"] = Math.Round(wall.Value.TotalSeconds, 1);
        return report;
    }

    /// <summary>Measured bytes per round, client and direction (<see cref="CommunicationSummary"/>), every transfer behind
    /// them, and the final download; null when the journal holds no measured transfer.</summary>
    static JsonObject? CommunicationJson(RoundState state)
    {
        if (state.Transfers.IsEmpty) return null;
        var rounds = new JsonArray();
        foreach (var r in CommunicationSummary.PerRoundAndClient(state))
            rounds.Add(new JsonObject
            {
                ["round"] = r.Round,
                ["client"] = r.ClientId,
                ["up_bytes"] = r.UpBytes,
                ["down_bytes"] = r.DownBytes,
                ["up_blob_bytes"] = r.UpBlobBytes,
                ["down_blob_bytes"] = r.DownBlobBytes,
            });
        var transfers = new JsonArray();
        foreach (var t in state.Transfers)
            transfers.Add(new JsonObject
            {
                ["round"] = t.Round,
                ["client"] = t.ClientId,
                ["direction"] = t.Direction,
                ["what"] = t.What,
                ["blob_sha256"] = t.Blob.Sha256,
                ["blob_bytes"] = t.Blob.Size,
                ["bytes"] = t.Count.Bytes,
                ["chunks"] = t.Count.Chunks,
                ["transfers"] = t.Count.Transfers,
            });
        var finals = new JsonObject();
        foreach (var (client, download) in CommunicationSummary.FinalDownloads(state))
            finals[client] = download is null ? null : download.Count.Bytes;
        return new JsonObject
        {
            ["measured_by"] = "payload bytes received, counted by the transfer layer (the server counts each update it fetches; each client counts what it fetches and reports it); a retried transfer counts twice; remoting framing not included (chunks = remoting messages)",
            ["per_round_and_client"] = rounds,
            ["final_download"] = new JsonObject
            {
                ["round"] = state.History.LastOrDefault()?.Round,
                ["adapter_bytes"] = state.History.LastOrDefault()?.Slm.Size,
                ["bytes_by_client"] = finals,
            },
            ["up_bytes_total"] = state.Transfers.Where(t => t.Direction == ClientTransfer.Up).Sum(t => t.Count.Bytes),
            ["down_bytes_total"] = state.Transfers.Where(t => t.Direction == ClientTransfer.Down).Sum(t => t.Count.Bytes),
            ["transfers"] = transfers,
        };
    }

    static void CommunicationMarkdown(StringBuilder md, RoundState state)
    {
        md.AppendLine().AppendLine("## Communication (measured by the transfer layer, bytes)").AppendLine();
        if (state.Transfers.IsEmpty)
        {
            md.AppendLine("No transfer was measured: the journal predates the counters, or the clients share the server's blob store (nothing crossed the transfer layer).");
            return;
        }
        md.AppendLine("Payload bytes received: the server counts each update it fetches (up), each client counts what it fetches and reports it (down). "
            + "A retried transfer counts twice; remoting framing is not included (each chunk is one remoting message). *blob* is the size of what was carried: the derived figure, as a cross-check.").AppendLine();
        md.AppendLine("| round | client | up | up blob | down | down blob |").AppendLine("|---|---|---|---|---|---|");
        foreach (var r in CommunicationSummary.PerRoundAndClient(state))
            md.AppendLine($"| {r.Round} | {r.ClientId} | {r.UpBytes:N0} | {r.UpBlobBytes:N0} | {r.DownBytes:N0} | {r.DownBlobBytes:N0} |");
        if (state.History.LastOrDefault() is { } last)
        {
            md.AppendLine().Append($"Final download (round {last.Round}'s distilled SLM adapter, {last.Slm.Size:N0} bytes): ");
            md.AppendLine(string.Join("; ", CommunicationSummary.FinalDownloads(state).Select(f => $"{f.ClientId} {(f.Download is null ? "not reported" : $"{f.Download.Count.Bytes:N0}")}")) + ".");
        }
        md.AppendLine().AppendLine("| round | client | direction | what | blob | bytes | chunks | transfers |").AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var t in state.Transfers)
            md.AppendLine($"| {t.Round} | {t.ClientId} | {t.Direction} | {t.What} | {t.Blob.Size:N0} | {t.Count.Bytes:N0} | {t.Count.Chunks} | {t.Count.Transfers} |");
    }

    static JsonObject Metrics(IReadOnlyDictionary<string, double> metrics)
    {
        var o = new JsonObject();
        foreach (var (k, v) in metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            o[k] = double.IsFinite(v) ? v : null;
        return o;
    }

    /// <summary>The job's evaluation sets by name, in the job's order: the columns of the accuracy tables (metrics
    /// <c>slm/acc/NAME</c>). Their names are the job's choice, not necessarily its client ids.</summary>
    public static IReadOnlyList<string> EvaluationSets(RoundState state) =>
        JobSpecs.DefinitionOf(state.Job!).Evaluation.Sets.Select(s => s.Name).ToList();

    /// <summary>Accuracy per evaluation set per round, for SLM and LLM; round 0 is the pre-trained models (zero-shot).</summary>
    public static IReadOnlyList<(string Model, int Round, IReadOnlyList<double?> PerSet, double? Mean)> AccuracyRows(RoundState state)
    {
        var sets = EvaluationSets(state);
        var rows = new List<(string, int, IReadOnlyList<double?>, double?)>();
        foreach (var model in new[] { "slm", "llm" })
            foreach (var (round, metrics) in state.History.Select(r => (r.Round, r.Metrics)).Prepend((0, state.Baseline)))
            {
                var values = sets.Select(d => metrics.TryGetValue($"{model}/acc/{d}", out var v) && double.IsFinite(v) ? v : (double?)null).ToArray();
                if (round == 0 && values.All(v => v is null)) continue;
                var present = values.Where(v => v is not null).Select(v => v!.Value).ToArray();
                rows.Add((model.ToUpperInvariant(), round, values, present.Length > 0 ? present.Average() : null));
            }
        return rows;
    }

    public static string Markdown(RoundState state, TimeSpan? wall = null)
    {
        var job = state.Job!;
        var md = new StringBuilder();
        md.AppendLine($"# Federation `{job.JobId}` — {state.Phase}").AppendLine();
        md.AppendLine($"Clients: {string.Join(", ", job.ClientIds)} · rounds {state.History.Count}/{job.Rounds} · seed {job.Seed} · strategy {job.Strategy} · spec `{job.DefinitionRef.Sha256[..12]}`");
        if (wall is not null) md.AppendLine($"Wall time of this invocation: {wall.Value.TotalMinutes:F1} min");
        if (state.FailureReason is not null) md.AppendLine().AppendLine($"**Failed:** {state.FailureReason}");
        var sets = EvaluationSets(state);
        md.AppendLine().AppendLine("## Accuracy on each evaluation set (acc, %; round 0 = pre-trained, zero-shot)").AppendLine();
        md.AppendLine($"| model | round | {string.Join(" | ", sets)} | mean |");
        md.AppendLine($"|---|---|{string.Concat(sets.Select(_ => "---|"))}---|");
        foreach (var (model, round, perSet, mean) in AccuracyRows(state))
            md.AppendLine($"| {model} | {round} | {string.Join(" | ", perSet.Select(Percent))} | {Percent(mean)} |");
        TeacherMass(md, state);
        md.AppendLine().AppendLine("## Rounds").AppendLine();
        md.AppendLine("| round | participants | missing | SLM adapter sha256 | LLM adapter sha256 |").AppendLine("|---|---|---|---|---|");
        foreach (var r in state.History)
            md.AppendLine($"| {r.Round} | {string.Join(", ", r.Participants)} | {string.Join(", ", r.Missing)} | `{r.Slm.Sha256}` | `{r.Llm.Sha256}` |");
        CommunicationMarkdown(md, state);
        return md.ToString();
    }

    /// <summary>Per round and direction, the teacher's mean probability mass outside its top-k at the job's T (metrics of
    /// the teacher passes); nothing for strategies without distillation or journals from before the metric.</summary>
    static void TeacherMass(StringBuilder md, RoundState state)
    {
        (string Key, string Direction)[] directions =
            [(FedCoLLM.Actors.Workers.LearningStepRunner.LlmToSlmTeacherMass, "LLM → SLM"), (FedCoLLM.Actors.Workers.LearningStepRunner.SlmToLlmTeacherMass, "SLM → LLM")];
        var rounds = state.History.Where(r => directions.Any(d => r.Metrics.ContainsKey(d.Key))).ToList();
        if (rounds.Count == 0) return;
        md.AppendLine().AppendLine("## Teacher probability mass outside its top-k (%, at the job's temperature; mean over the public set's answer positions)").AppendLine();
        md.AppendLine($"| round | {string.Join(" | ", directions.Select(d => d.Direction))} |").AppendLine($"|---|{string.Concat(directions.Select(_ => "---:|"))}");
        foreach (var r in rounds)
            md.AppendLine($"| {r.Round} | {string.Join(" | ", directions.Select(d => r.Metrics.TryGetValue(d.Key, out var v) && double.IsFinite(v) ? (100 * v).ToString("F2", CultureInfo.InvariantCulture) : "–"))} |");
    }

    public static string Percent(double? x) => x is null ? "–" : $"{100 * x.Value:F1}";

    public static void Write(string outDir, RoundState state, TimeSpan? wall)
    {
        var json = Json(state, wall).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        File.WriteAllText(Path.Combine(outDir, "report.json"), json + "\n");
        File.WriteAllText(Path.Combine(outDir, "report.md"), Markdown(state, wall));
    }
}

using System.Text.Json;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Serialization;
using FedCoLLM.Actors.Strategies;
using FedCoLLM.Learning.Federation;

namespace FedCoLLM.Actors.Identity;

/// <summary>One journaled event of a job and its sequence number (its row in the journal).</summary>
public sealed record LedgerEntry(long SequenceNr, IRoundEvent Event);

/// <summary>The first link of the ledger that does not hold: the event (by sequence number) and what is wrong.</summary>
public sealed record BrokenLink(long SequenceNr, string Event, string Problem)
{
    public override string ToString() => $"event #{SequenceNr} ({Event}): {Problem}";
}

/// <summary>What <see cref="LedgerAudit.Verify"/> checked, and the first broken link (null when the ledger holds).</summary>
public sealed record LedgerReport(string? JobId, bool Signed, int Events, int SignaturesVerified, int AggregatesRecomputed, int BlobsVerified,
    IReadOnlyList<string> Chain, BrokenLink? Broken)
{
    public bool Holds => Broken is null;
    /// <summary>Intermediate blobs of the ended job that blob GC removed (<see cref="BlobCollector"/>): their hashes stay in
    /// the checked chain, their bytes are gone.</summary>
    public int BlobsCollected { get; init; }
    /// <summary>FedAvg aggregates not recomputed because GC removed their inputs.</summary>
    public int AggregatesCollected { get; init; }
}

/// <summary>
/// Re-verifies a job's journal offline, event by event, trusting neither the journal nor the blob store:
/// <list type="bullet">
/// <item>each event must be exactly what the round state machine decides from the events before it (the same
/// <see cref="RoundState.Decide"/> the server ran), so a row edited to name another adapter, client, count or round
/// breaks the chain where it was edited;</item>
/// <item>every accepted update's signature must verify against the key the job enrols for its client
/// (<see cref="UpdateStatement"/>);</item>
/// <item>every FedAvg aggregate is recomputed from the accepted updates' blobs with <see cref="FedAvg.AggregateBytes"/>
/// and must have the journaled hash;</item>
/// <item>every blob the journal names must be in the store with the bytes its hash names — except, once the journal
/// shows the job ended, the intermediate blobs blob GC removes (<see cref="JobBlobs.Retained"/> keeps the definition and
/// the final adapters, which must be there): those are counted as collected, and an aggregate whose inputs were collected
/// is not recomputed. A blob that is present is re-hashed either way.</item>
/// </list>
/// Server phases other than FedAvg (distillation, evaluation) need the models to recompute; for them the audit checks
/// the hash chain (what each phase consumed is what the one before produced) and the blobs' integrity.
/// </summary>
public static class LedgerAudit
{
    public static LedgerReport Verify(IReadOnlyList<LedgerEntry> entries, IBlobStore blobs)
    {
        var state = RoundState.Empty;
        int signatures = 0, aggregates = 0;
        var verifiedBlobs = new HashSet<BlobRef>();
        var collected = new HashSet<BlobRef>();
        int aggregatesCollected = 0;
        // What GC may have removed: everything an ended job named but does not keep (null while the job runs).
        var retained = JobBlobs.Of("", entries.Select(x => x.Event)).Retained;
        var chain = new List<string>();
        string? jobId = null;
        bool signed = false;

        LedgerReport Report(BrokenLink? broken) =>
            new(jobId, signed, entries.Count, signatures, aggregates, verifiedBlobs.Count, chain, broken)
            {
                BlobsCollected = collected.Count,
                AggregatesCollected = aggregatesCollected,
            };

        foreach (var (seq, e) in entries)
        {
            BrokenLink Broken(string problem) => new(seq, e.GetType().Name, problem);
            if (jobId is null && e is not JobStarted)
                return Report(Broken("the journal does not start with JobStarted; it has lost its first rows"));

            // 1. The event is what the state machine decides from the events before it.
            if (Redecide(state, e) is { } mismatch) return Report(Broken(mismatch));

            // 2. Signatures (the re-decision also checked them, through RoundState.Authenticate; here explicitly, by name).
            if (e is ClientUpdateAccepted u && state.Job!.ClientKeys is { } keys)
            {
                var statement = new UpdateStatement(state.Job.JobId, u.Round, u.Attempt ?? state.Attempt, u.ClientId, u.Update, u.SampleCount);
                if (!statement.IsSignedBy(keys[u.ClientId], u.Signature))
                    return Report(Broken($"the signature of {u.ClientId}'s round {u.Round} update does not verify against its enrolled key ({statement})"));
                signatures++;
            }

            // 3. Every blob the event names is in the store, intact.
            foreach (var (blob, what) in Blobs(e))
            {
                if (verifiedBlobs.Contains(blob) || collected.Contains(blob)) continue;
                if (retained is not null && !retained.Contains(blob) && !blobs.Contains(blob))
                {
                    collected.Add(blob);
                    continue;
                }
                try { blobs.Read(blob); }
                catch (BlobNotFoundException) { return Report(Broken($"{what} {blob} is not in the blob store; the audit needs every blob the journal names (pass the server nodes' --blobs)")); }
                catch (BlobIntegrityException ex) { return Report(Broken($"{what} {blob}: the stored bytes do not match their hash, the blob was altered ({ex.Message})")); }
                verifiedBlobs.Add(blob);
            }

            // 4. FedAvg aggregates, recomputed from the accepted inputs.
            if (e is PhaseCompleted p && state.NextWork() is RunAggregation { Request: { Operation: Operations.FedAvg } request })
            {
                var clients = string.Join(", ", state.Updates.Keys.Order(StringComparer.Ordinal));
                if (request.Inputs.Any(collected.Contains))
                {
                    aggregatesCollected++;
                    chain.Add($"round {p.Round}: FedAvg of [{clients}] = {Short(p.Output!)} (inputs removed by blob GC: not recomputed)");
                }
                else
                {
                    BlobRef recomputed;
                    try { recomputed = BlobRef.Of(FedAvg.AggregateBytes(request.Inputs.Select((b, i) => (blobs.Read(b), request.SampleCounts![i])).ToList(), WireDtype(state.Job!))); }
                    catch (Exception ex) when (ex is InvalidDataException or ArgumentException or IOException)
                    {
                        return Report(Broken($"round {p.Round}'s accepted updates of [{clients}] cannot be averaged: {ex.Message}"));
                    }
                    if (p.Output != recomputed)
                        return Report(Broken($"round {p.Round}'s aggregate is {p.Output}, but FedAvg of the accepted updates of [{clients}] is {recomputed}"));
                    aggregates++;
                    chain.Add($"round {p.Round}: FedAvg of [{clients}] = {Short(recomputed)} (recomputed)");
                }
            }

            try { state = state.Apply(e); }
            catch (Exception ex) when (ex is ArgumentException or KeyNotFoundException or NullReferenceException or InvalidOperationException)
            {
                return Report(Broken($"cannot be applied to the job's state ({ex.Message})"));
            }
            switch (e)
            {
                case JobStarted s:
                    jobId = s.Spec.JobId;
                    signed = s.Spec.RequiresSignatures;
                    if (KeysDisagree(s.Spec) is { } disagreement) return Report(Broken(disagreement));
                    chain.Add($"job {jobId}: spec {Short(s.Spec.DefinitionRef)}, clients [{string.Join(", ", s.Spec.ClientIds)}], {(signed ? "keys enrolled" : "no keys enrolled (updates unsigned)")}");
                    break;
                case AdaptersInitialized a:
                    chain.Add($"initial adapters: SLM {Short(a.Slm)}, LLM {Short(a.Llm)}");
                    break;
                case RoundCommitted c:
                    chain.Add($"round {c.Round} committed: SLM {Short(c.Slm)}, LLM {Short(c.Llm)}" + (state.Phase.IsTerminal ? " (final)" : $" (the start of round {c.Round + 1})"));
                    break;
            }
        }
        if (jobId is null) return Report(new BrokenLink(0, "-", "the journal holds no events for this job"));
        return Report(null);
    }

    /// <summary>Null when <paramref name="e"/> is exactly the event <see cref="RoundState.Decide"/> yields from <paramref name="state"/>
    /// for the command that produced it (its time aside); else the difference in words.</summary>
    static string? Redecide(RoundState state, IRoundEvent e)
    {
        IRoundCommand? command = e switch
        {
            JobStarted s => new StartJob(s.Spec),
            AdaptersInitialized a => new CompleteStep(0, RoundPhase.Initializing, new StepResult([a.Slm, a.Llm], a.Baseline ?? new Dictionary<string, double>())),
            // The upload count is the server's measurement of its fetch, not a decision: carried over as journaled.
            ClientUpdateAccepted u => new SubmitUpdate(u.Round, u.ClientId, u.Update, u.SampleCount, u.TrainLoss, u.Attempt ?? state.Attempt, u.Signature) { Upload = u.Upload },
            ClientDownloaded d => new RecordDownload(d.Round, d.ClientId, d.What, d.Blob, d.Count),
            TrainingClosed or RoundAbandoned => new CloseTraining(state.Round, state.Attempt),
            PhaseCompleted p => new CompleteStep(p.Round, p.Phase, new StepResult(p.Output is { } o ? [o] : [], p.Metrics)),
            SlmBroadcast b => new RecordBroadcast(b.Round, b.Recipients),
            RoundCommitted c => new CompleteStep(c.Round, state.Phase, new StepResult(state.Plan?.Produces.Select(slot => state.Slots[slot]).ToArray() ?? [], c.Metrics)),
            JobFailed f => new FailJob(f.Reason),
            JobCancelled c => new CancelJob(c.Reason),
            _ => null,
        };
        if (command is null) return $"unknown event type {e.GetType().Name}";
        RoundDecision decision;
        try { decision = state.Decide(command, e.At); }
        catch (Exception ex) when (ex is ArgumentException or KeyNotFoundException or NullReferenceException or InvalidOperationException)
        {
            return $"does not follow from the events before it ({ex.Message})";
        }
        if (decision.Outcome != Outcome.Accepted || decision.Events.Count != 1)
            return $"does not follow from the events before it: the job at round {state.Round} attempt {state.Attempt}, {state.Phase} would not journal it ({decision.Outcome}: {decision.Detail})";
        var expected = Json(Older(decision.Events[0], e));
        var actual = Json(e);
        return expected == actual ? null : $"differs from what the events before it decide: {FirstDifference(expected, actual)}";
    }

    /// <summary>Journals written before updates carried their attempt (and before baselines were scored) hold those fields as
    /// null: compare the decided event in the same shape, so an older journal audits as it was written.</summary>
    static IRoundEvent Older(IRoundEvent decided, IRoundEvent journaled) => (decided, journaled) switch
    {
        (ClientUpdateAccepted d, ClientUpdateAccepted { Attempt: null }) => d with { Attempt = null },
        (AdaptersInitialized d, AdaptersInitialized { Baseline: null }) when d.Baseline is { Count: 0 } => d with { Baseline = null },
        _ => decided,
    };

    /// <summary>The journaled spec's keys must be the keys of the job definition it carries (when it carries one).</summary>
    static string? KeysDisagree(JobSpec spec)
    {
        if (spec.Definition.Length == 0) return null;
        Jobs.JobDefinition definition;
        try { definition = Jobs.JobSpecs.DefinitionOf(spec); }
        catch (Jobs.JobFileException) { return null; } // a definition from before canonical job files: nothing to compare
        var fromDefinition = definition.PublicKeys;
        var journaled = spec.ClientKeys ?? new Dictionary<string, string>();
        return fromDefinition.Count == journaled.Count && fromDefinition.All(kv => journaled.TryGetValue(kv.Key, out var v) && v == kv.Value)
            ? null
            : "the spec's enrolled keys differ from the keys in the job definition it carries; the JobStarted row was edited";
    }

    /// <summary>The dtype the job's aggregates are written in (<c>job.adapters.wire-dtype</c>); float32 for a spec that
    /// carries no canonical definition (written before job files).</summary>
    static FedCoLLM.Learning.Lora.AdapterWireDtype WireDtype(JobSpec spec)
    {
        if (spec.Definition.Length == 0) return FedCoLLM.Learning.Lora.AdapterWireDtype.Float32;
        try { return Jobs.JobSpecs.DefinitionOf(spec).AdapterWireDtype; }
        catch (Jobs.JobFileException) { return FedCoLLM.Learning.Lora.AdapterWireDtype.Float32; }
    }

    static IEnumerable<(BlobRef Blob, string What)> Blobs(IRoundEvent e) => e switch
    {
        AdaptersInitialized a => [(a.Slm, "the initial SLM adapter"), (a.Llm, "the initial LLM adapter")],
        ClientUpdateAccepted u => [(u.Update, $"{u.ClientId}'s round {u.Round} update")],
        PhaseCompleted { Output: { } o } p => [(o, $"the output of round {p.Round} {p.Phase}")],
        RoundCommitted c => [(c.Slm, $"round {c.Round}'s SLM adapter"), (c.Llm, $"round {c.Round}'s LLM adapter")],
        _ => [],
    };

    /// <summary>The event's JSON with its time left out (the re-decision runs at another moment).</summary>
    static string Json(IRoundEvent e)
    {
        var node = JsonSerializer.SerializeToNode(e, e.GetType(), RoundEventSerializer.Json)!.AsObject();
        node.Remove("At");
        return node.ToJsonString();
    }

    static string FirstDifference(string expected, string actual)
    {
        var a = JsonDocument.Parse(expected).RootElement;
        var b = JsonDocument.Parse(actual).RootElement;
        foreach (var property in a.EnumerateObject())
        {
            var journaled = b.TryGetProperty(property.Name, out var v) ? v.GetRawText() : "missing";
            if (journaled != property.Value.GetRawText())
                return $"{property.Name} is {journaled} in the journal, but {property.Value.GetRawText()} follows from the events before it";
        }
        return $"the journal's event has extra fields ({actual})";
    }

    static string Short(BlobRef b) => b.Sha256[..12];
}

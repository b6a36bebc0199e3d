using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Blobs;

/// <summary>
/// What one job's journal says about blobs: every blob its events name, whether it has ended (completed, failed or
/// cancelled), when it started, and — once ended — the blobs kept for good: the job definition, the final adapters
/// (the last committed SLM and LLM, or the initial ones when no round was committed) and the last committed round's
/// accepted client updates (the audit recomputes that round's aggregate). The kept set does not grow with the rounds. <c>fedcollm status</c> reads the
/// journal alone, the final PEFT export reads the final adapters, and <c>fedcollm audit</c> re-hashes what is kept and
/// accepts the rest as collected (<see cref="Identity.LedgerAudit"/>); everything else an ended job named (client
/// updates, aggregates, teacher logits, distilled and per-round adapters, secure-aggregation messages) is intermediate.
/// </summary>
public sealed record JobBlobs(string JobId, IReadOnlySet<BlobRef> Named, IReadOnlySet<BlobRef>? Retained, DateTimeOffset? StartedAt)
{
    public bool Ended => Retained is not null;

    /// <summary>Reads a job's events through the job's own state machine (<see cref="RoundState.Apply"/>), so "ended" and
    /// "final" mean what they mean to the job. A journal that does not apply is treated as a running job: all kept.</summary>
    public static JobBlobs Of(string jobId, IEnumerable<IRoundEvent> events)
    {
        var named = new HashSet<BlobRef>();
        var state = RoundState.Empty;
        DateTimeOffset? started = null;
        var readable = true;
        var updates = new Dictionary<int, List<BlobRef>>();
        foreach (var e in events)
        {
            foreach (var blob in Names(e)) named.Add(blob);
            if (e is JobStarted s) started = s.At;
            if (e is ClientUpdateAccepted u) (updates.TryGetValue(u.Round, out var list) ? list : updates[u.Round] = []).Add(u.Update);
            if (!readable) continue;
            try { state = state.Apply(e); }
            catch (Exception ex) when (ex is ArgumentException or KeyNotFoundException or NullReferenceException or InvalidOperationException)
            {
                readable = false;
            }
        }
        if (!readable || !state.Phase.IsTerminal) return new JobBlobs(jobId, named, null, started);
        var spec = state.Job is { Definition.Length: > 0 } job ? job.DefinitionRef : null;
        var kept = new[] { spec, state.GlobalSlm, state.GlobalLlm }.OfType<BlobRef>().ToHashSet();
        // The last committed round's updates, so `fedcollm audit` still recomputes the aggregate the final adapters grew from.
        if (state.History.Count > 0 && updates.TryGetValue(state.History[^1].Round, out var last)) kept.UnionWith(last);
        return new JobBlobs(jobId, named, kept, started);
    }

    /// <summary>Every blob an event names (<see cref="Identity.LedgerAudit"/> re-hashes the same ones, and the spec).</summary>
    public static IEnumerable<BlobRef> Names(IRoundEvent e) => e switch
    {
        JobStarted s when s.Spec.Definition.Length > 0 => [s.Spec.DefinitionRef],
        AdaptersInitialized a => [a.Slm, a.Llm],
        ClientUpdateAccepted u => [u.Update],
        ClientUpdateRejected r => [r.Update],
        PhaseCompleted { Output: { } o } => [o],
        SlmBroadcast b => [b.Slm],
        RoundCommitted c => [c.Slm, c.Llm],
        SecAggMessageAccepted m => [m.Message],
        SecAggStepComputed s => s.Outputs,
        _ => [],
    };
}

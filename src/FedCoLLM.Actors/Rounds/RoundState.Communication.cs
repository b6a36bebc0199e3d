using System.Collections.Immutable;
using FedCoLLM.Actors.Blobs;

namespace FedCoLLM.Actors.Rounds;

/// <summary>One measured transfer between a client and the server, as the job's journal records it: who, which round, which
/// way (<see cref="Up"/>: client to server; <see cref="Down"/>: server to client), what was moved and the counted bytes.</summary>
/// <remarks>The counts come from the transfer layer (<see cref="TransferTally"/>) of the receiving side: the server counts
/// uploads as it fetches them, a client counts its downloads and reports them (<see cref="ClientDownloaded"/>).</remarks>
public sealed record ClientTransfer(int Round, string ClientId, string Direction, string What, BlobRef Blob, TransferCount Count)
{
    public const string Up = "up";
    public const string Down = "down";

    /// <summary>A client's SLM adapter update (accepted).</summary>
    public const string Update = "update";
    /// <summary>A client's update the screen refused after fetching it.</summary>
    public const string RejectedUpdate = "rejected-update";
    /// <summary>The global SLM adapter a round's training starts from, fetched with the round's task.</summary>
    public const string GlobalSlm = "global-slm";
    /// <summary>The job definition every step obeys (fetched once per client node).</summary>
    public const string Definition = "job-definition";
    /// <summary>The distilled SLM adapter the round broadcast; the last round's is the job's final download.</summary>
    public const string Broadcast = "broadcast-slm";

    /// <summary>A client's secure-aggregation message of one protocol step (masked update, key shares, ...).</summary>
    public static string SecAggMessage(int step) => $"secagg-step-{step}";

    /// <summary>The inputs a client fetched for one secure-aggregation step (other clients' keys, shares addressed to it).</summary>
    public static string SecAggInputs(int step) => $"secagg-step-{step}-inputs";
}

public sealed partial record RoundState
{
    /// <summary>Every measured client transfer of the job, in journal order (empty for journals older than the counters).</summary>
    public ImmutableList<ClientTransfer> Transfers { get; init; } = [];

    /// <summary>What identifies a transfer for the duplicate check: everything but its counts.</summary>
    readonly record struct TransferKey(int Round, string ClientId, string Direction, string What, BlobRef Blob);

    /// <summary>The keys of each <see cref="Transfers"/> list, so a resent download report is found in O(1): a linear
    /// scan per report was O(K²) per round at 10,000 clients, and their final downloads were not journaled within the
    /// clients' grace (<c>fedcollm bench scale --clients 10000</c>). Kept beside the state, not in it: the state travels
    /// over the wire (a job's status) and into snapshots, and the keys are derived. <see cref="Counted"/> extends the set
    /// of the list it extends; a list from a snapshot or the wire gets its set built once.</summary>
    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ImmutableList<ClientTransfer>, ImmutableHashSet<TransferKey>> transferKeys = new();

    static ImmutableHashSet<TransferKey> KeysOf(ImmutableList<ClientTransfer> transfers) =>
        transferKeys.GetValue(transfers, list => list.Select(t => new TransferKey(t.Round, t.ClientId, t.Direction, t.What, t.Blob)).ToImmutableHashSet());

    RoundState Counted(int round, string clientId, string direction, string what, BlobRef blob, TransferCount? count)
    {
        if (count is null) return this;
        var transfers = Transfers.Add(new ClientTransfer(round, clientId, direction, what, blob, count));
        transferKeys.AddOrUpdate(transfers, KeysOf(Transfers).Add(new TransferKey(round, clientId, direction, what, blob)));
        return this with { Transfers = transfers };
    }

    /// <summary>A download report is a fact about bytes that moved, so it is recorded in any phase of a started job, also
    /// after it ended; the same report again (a resend) is a duplicate.</summary>
    RoundDecision DecideDownload(RecordDownload c, DateTimeOffset now)
    {
        if (Job is null) return RoundDecision.Rejected("no job has started");
        if (!Job.Enrols(c.ClientId))
            return RoundDecision.Rejected($"client \"{c.ClientId}\" is not enrolled in job {Job.JobId} (enrolled: {string.Join(", ", Job.ClientIds)})");
        if (c.Count.Invalid() is { } invalid) return RoundDecision.Rejected($"download report of {c.ClientId}: {invalid}");
        if (c.Round < 1 || c.Round > Job.Rounds)
            return RoundDecision.Rejected($"download report of {c.ClientId} for round {c.Round}; job {Job.JobId} has rounds 1 to {Job.Rounds}");
        if (KeysOf(Transfers).Contains(new TransferKey(c.Round, c.ClientId, ClientTransfer.Down, c.What, c.Blob)))
            return RoundDecision.Duplicate($"download of {c.What} by {c.ClientId} in round {c.Round} already recorded");
        return RoundDecision.Of(new ClientDownloaded(c.Round, c.ClientId, c.What, c.Blob, c.Count, now));
    }

    /// <summary>Clients that have not reported downloading the job's final SLM adapter (the last committed round's broadcast);
    /// empty unless the job completed, and for a strategy that broadcasts nothing (zero-shot). A client that sat the last round out may still have fetched it.</summary>
    public IReadOnlyList<string> FinalDownloadsPending()
    {
        if (Phase != RoundPhase.Completed || History.Count == 0 || Job is null || !Job.Phases.Any(p => p.RunBy == Strategies.PhaseRunner.Broadcast)) return [];
        var last = History[^1].Round;
        var downloaded = Transfers.Where(t => t.Round == last && t.What == ClientTransfer.Broadcast).Select(t => t.ClientId).ToHashSet(StringComparer.Ordinal);
        return Job.ClientIds.Where(c => !downloaded.Contains(c)).ToArray();
    }
}

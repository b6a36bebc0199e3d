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

    RoundState Counted(int round, string clientId, string direction, string what, BlobRef blob, TransferCount? count) =>
        count is null ? this : this with { Transfers = Transfers.Add(new ClientTransfer(round, clientId, direction, what, blob, count)) };

    /// <summary>A download report is a fact about bytes that moved, so it is recorded in any phase of a started job, also
    /// after it ended; the same report again (a resend) is a duplicate.</summary>
    RoundDecision DecideDownload(RecordDownload c, DateTimeOffset now)
    {
        if (Job is null) return RoundDecision.Rejected("no job has started");
        if (!Job.ClientIds.Contains(c.ClientId))
            return RoundDecision.Rejected($"client \"{c.ClientId}\" is not enrolled in job {Job.JobId} (enrolled: {string.Join(", ", Job.ClientIds)})");
        if (c.Count.Invalid() is { } invalid) return RoundDecision.Rejected($"download report of {c.ClientId}: {invalid}");
        if (c.Round < 1 || c.Round > Job.Rounds)
            return RoundDecision.Rejected($"download report of {c.ClientId} for round {c.Round}; job {Job.JobId} has rounds 1 to {Job.Rounds}");
        if (Transfers.Any(t => t.Direction == ClientTransfer.Down && t.Round == c.Round && t.ClientId == c.ClientId && t.What == c.What && t.Blob == c.Blob))
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

namespace FedCoLLM.Actors.Rounds;

/// <summary>A client's measured traffic in one round: bytes up (its update, or its secure-aggregation messages) and down
/// (what it fetched for the round: the starting adapter, the job definition, step inputs, and the round's broadcast
/// distilled adapter), next to the sizes of the blobs those transfers carried (the derived figure, as a cross-check).</summary>
public sealed record ClientRoundTraffic(int Round, string ClientId, long UpBytes, long DownBytes, long UpBlobBytes, long DownBlobBytes);

/// <summary>The job's communication as its reports show it, from <see cref="RoundState.Transfers"/> only (so a resumed run and
/// <c>fedcollm status</c> agree with the run that measured it).</summary>
public static class CommunicationSummary
{
    /// <summary>Per round, per enrolled client (ordinal order), the sums of its measured transfers.</summary>
    public static IReadOnlyList<ClientRoundTraffic> PerRoundAndClient(RoundState state)
    {
        var rows = new List<ClientRoundTraffic>();
        foreach (var round in state.Transfers.Select(t => t.Round).Distinct().Order())
            foreach (var client in state.Job!.ClientIds.Order(StringComparer.Ordinal))
            {
                var mine = state.Transfers.Where(t => t.Round == round && t.ClientId == client).ToArray();
                var up = mine.Where(t => t.Direction == ClientTransfer.Up).ToArray();
                var down = mine.Where(t => t.Direction == ClientTransfer.Down).ToArray();
                rows.Add(new ClientRoundTraffic(round, client, up.Sum(t => t.Count.Bytes), down.Sum(t => t.Count.Bytes),
                    up.Where(t => t.Count.Transfers > 0).Sum(t => t.Blob.Size), down.Where(t => t.Count.Transfers > 0).Sum(t => t.Blob.Size)));
            }
        return rows;
    }

    /// <summary>Each enrolled client's report of the job's final download (the last committed round's broadcast distilled SLM
    /// adapter), or null where none was recorded.</summary>
    public static IReadOnlyList<(string ClientId, ClientTransfer? Download)> FinalDownloads(RoundState state)
    {
        if (state.History.Count == 0 || state.Job is null || !state.Job.Phases.Any(p => p.RunBy == Strategies.PhaseRunner.Broadcast)) return [];
        var last = state.History[^1];
        return state.Job.ClientIds.Order(StringComparer.Ordinal)
            .Select(c => (c, state.Transfers.LastOrDefault(t => t.Round == last.Round && t.ClientId == c && t.What == ClientTransfer.Broadcast)))
            .ToArray();
    }
}

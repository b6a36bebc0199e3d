using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Serialization;
using Npgsql;

namespace FedCoLLM.Cli.Chaos;

/// <summary>
/// Reads a job's events straight from the PostgreSQL journal table (not through Akka: the audit must not trust the
/// code it audits) and checks that nothing was lost or counted twice: per round attempt each client update was
/// accepted at most once, the attempt that committed has an update from every client, and each round committed once.
/// Under secure aggregation no update exists: per attempt each client's message of each protocol step was accepted at
/// most once, and the attempt that committed has every client's message of every step (the chaos job tolerates no
/// dropout, so a killed client must resume its step, not be dropped), in particular its masked input.
/// </summary>
public static class JournalAudit
{
    /// <summary>The journal position of the latest phase transition — any event but an accepted client update or
    /// secure-aggregation message — so it rises when the round moves on, not when one client of many reports.</summary>
    public static async Task<long> LatestTransition(string connectionString, CancellationToken cancellation = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(
            "SELECT coalesce(max(ordering), 0) FROM journal WHERE manifest NOT LIKE 'client-update-accepted%' AND manifest NOT LIKE 'secagg-message-accepted%' AND manifest NOT LIKE 'directory-%'", connection);
        try { return Convert.ToInt64(await command.ExecuteScalarAsync(cancellation)); }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable) { return 0; }
    }

    public static async Task<IReadOnlyList<IRoundEvent>> ReadEvents(string connectionString, CancellationToken cancellation = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand("SELECT manifest, message FROM journal WHERE deleted = false ORDER BY ordering", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        var events = new List<IRoundEvent>();
        while (await reader.ReadAsync(cancellation))
        {
            var manifest = reader.GetString(0);
            if (RoundEventSerializer.Read((byte[])reader[1], manifest) is IRoundEvent e) events.Add(e);
        }
        return events;
    }

    /// <summary>Every violation found, in words; empty when the journal is clean.</summary>
    public static IReadOnlyList<string> Check(IReadOnlyList<IRoundEvent> events, IReadOnlyList<string> clients, int rounds, bool secureAggregation = false)
    {
        var problems = new List<string>();
        var messages = new Dictionary<(int Round, int Attempt, int Step), List<string>>();
        var attempt = new Dictionary<int, int>();
        var accepted = new Dictionary<(int Round, int Attempt), List<string>>();
        var commits = new Dictionary<int, int>();
        foreach (var e in events)
        {
            switch (e)
            {
                case ClientUpdateAccepted u when secureAggregation:
                    problems.Add($"round {u.Round}: a plaintext update of {u.ClientId} was accepted in a secure-aggregation job");
                    break;
                case SecAggMessageAccepted m:
                    if (!messages.TryGetValue((m.Round, m.Attempt, m.Step), out var senders)) messages[(m.Round, m.Attempt, m.Step)] = senders = [];
                    if (senders.Contains(m.ClientId))
                        problems.Add($"round {m.Round} attempt {m.Attempt}: the {SecAggOperations.ClientSteps[m.Step]} message of {m.ClientId} was accepted twice");
                    senders.Add(m.ClientId);
                    break;
                case ClientUpdateAccepted u:
                    var key = (u.Round, attempt.GetValueOrDefault(u.Round, 1));
                    if (!accepted.TryGetValue(key, out var list)) accepted[key] = list = [];
                    if (list.Contains(u.ClientId))
                        problems.Add($"round {u.Round} attempt {key.Item2}: the update of {u.ClientId} was accepted twice");
                    list.Add(u.ClientId);
                    break;
                case RoundAbandoned a:
                    attempt[a.Round] = a.Attempt + 1;
                    break;
                case RoundCommitted c:
                    commits[c.Round] = commits.GetValueOrDefault(c.Round) + 1;
                    if (secureAggregation)
                    {
                        var at = attempt.GetValueOrDefault(c.Round, 1);
                        for (var step = 0; step < SecAggOperations.ClientSteps.Length; step++)
                        {
                            var absent = clients.Except(messages.GetValueOrDefault((c.Round, at, step)) ?? []).ToArray();
                            if (absent.Length > 0)
                                problems.Add($"round {c.Round} attempt {at} committed without the {SecAggOperations.ClientSteps[step]} message of {string.Join(", ", absent)}");
                        }
                        break;
                    }
                    var committed = accepted.GetValueOrDefault((c.Round, attempt.GetValueOrDefault(c.Round, 1))) ?? [];
                    var missing = clients.Except(committed).ToArray();
                    if (missing.Length > 0)
                        problems.Add($"round {c.Round} committed without the update of {string.Join(", ", missing)}");
                    break;
            }
        }
        for (var r = 1; r <= rounds; r++)
        {
            var n = commits.GetValueOrDefault(r);
            if (n != 1) problems.Add($"round {r} committed {n} times (expected once)");
        }
        return problems;
    }
}

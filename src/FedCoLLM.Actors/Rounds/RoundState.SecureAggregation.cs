using System.Collections.Immutable;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Strategies;

namespace FedCoLLM.Actors.Rounds;

/// <summary>
/// The clients phase of a round under secure aggregation (<see cref="JobSpec.SecureAggregation"/>): four collect
/// steps, each closed when every expected client sent its message or, at the deadline, with at least the threshold
/// K − t of them; steps 0–2 are then finished by a server step (roster, share routing, unmask request) and step 3
/// hands the whole protocol to the aggregator. Fewer than the threshold at a deadline abandons the attempt like a
/// missed quorum: nothing of it is kept, and the next attempt starts with fresh keys (the context names the attempt).
/// </summary>
public sealed partial record RoundState
{
    bool InSecAggCollection => SecAgg is not null && Plan?.RunBy == PhaseRunner.Clients;

    RoundDecision DecideSecAggMessage(SubmitSecAggMessage c, DateTimeOffset now)
    {
        if (Job is null) return RoundDecision.Rejected("no job has started");
        if (Job.SecureAggregation is null)
            return RoundDecision.Rejected($"job {Job.JobId} does not use secure aggregation; clients submit their updates instead");
        if (!Job.Enrols(c.ClientId))
            return RoundDecision.Rejected($"client \"{c.ClientId}\" is not enrolled in job {Job.JobId} (enrolled: {string.Join(", ", Job.ClientIds)})");
        if (c.Round != Round || c.Attempt != Attempt || !InSecAggCollection || c.Step < 0 || c.Step > 3)
            return RoundDecision.Late($"secure-aggregation message of round {c.Round} attempt {c.Attempt} step {c.Step}, but the job is at round {Round} attempt {Attempt}, {Phase}");
        if (SecAgg!.MessagesOf(c.Step).TryGetValue(c.ClientId, out var previous))
            return previous == c.Message
                ? RoundDecision.Duplicate($"step {c.Step} message of {c.ClientId} already accepted")
                : RoundDecision.Rejected($"client {c.ClientId} already sent {previous} for step {c.Step} of round {Round} attempt {Attempt}; a different message {c.Message} is refused (every step is deterministic, so this means the client's data, settings or secret changed)");
        if (c.Step != SecAgg.Step || SecAgg.Computing)
            return RoundDecision.Late($"step {c.Step} message of {c.ClientId}, but round {Round} attempt {Attempt} is at step {SecAgg.Step}{(SecAgg.Computing ? " (closed)" : "")}");
        if (!SecAgg.Expects(c.ClientId))
            return RoundDecision.Rejected($"client {c.ClientId} dropped out of round {Round} attempt {Attempt} before step {c.Step} ({SecAggOperations.StepName(c.Step)}); it rejoins in the next round");
        return RoundDecision.Of(new SecAggMessageAccepted(Round, Attempt, c.Step, c.ClientId, c.Message, now, c.Upload));
    }

    RoundDecision DecideSecAggClose(CloseSecAggStep c, DateTimeOffset now)
    {
        if (!InSecAggCollection || c.Round != Round || c.Attempt != Attempt || c.Step != SecAgg!.Step || SecAgg.Computing)
            return RoundDecision.Late($"deadline of round {c.Round} attempt {c.Attempt} step {c.Step}, but the job is at round {Round} attempt {Attempt}, {Phase}");
        var spec = Job!.SecureAggregation!;
        int threshold = spec.Threshold(Job.ClientIds.Count), got = SecAgg.MessagesOf(c.Step).Count;
        if (got >= threshold)
            return RoundDecision.Of(new SecAggStepClosed(Round, Attempt, c.Step, SecAgg.Waiting.ToArray(), now));
        var reason = $"secure aggregation step '{SecAggOperations.StepName(c.Step)}': only {got} of {Job.ClientIds.Count} clients answered before the deadline " +
            $"(missing: {string.Join(", ", SecAgg.Waiting)}), but the secrets are shared with threshold {threshold} " +
            $"(secure-aggregation-dropouts = {spec.MaxDropouts}); nothing of this attempt is aggregated";
        return Attempt >= Job.MaxRoundAttempts
            ? RoundDecision.Of(new JobFailed($"round {Round}: {reason}, after {Attempt} attempts", now))
            : RoundDecision.Of(new RoundAbandoned(Round, Attempt, reason, now));
    }

    RoundDecision DecideSecAggComputed(CompleteStep c, DateTimeOffset now)
    {
        int step = SecAgg!.Step;
        int expected = step == 1 ? SecAgg.Bundles.Count : 1;
        if (c.Result.Outputs.Count != expected)
            return RoundDecision.Rejected($"secure aggregation step {step} must produce {expected} output(s), got {c.Result.Outputs.Count}");
        return RoundDecision.Of(new SecAggStepComputed(Round, Attempt, step, c.Result.Outputs, now));
    }

    RoundState ApplySecAggMessage(SecAggMessageAccepted m)
    {
        var secAgg = SecAgg!.With(m.Step, m.ClientId, m.Message);
        var next = this with { SecAgg = secAgg };
        return secAgg.WaitingCount == 0 ? next.CloseSecAggCollection() : next;
    }

    /// <summary>The step's messages are in: steps 0–2 wait for the server's part, step 3 moves on to the aggregator.</summary>
    RoundState CloseSecAggCollection()
    {
        if (SecAgg!.Step < 3) return this with { SecAgg = SecAgg with { Computing = true } };
        return (this with { Missing = [.. Job!.ClientIds.Where(c => !SecAgg.Masked.ContainsKey(c))] }).Advance();
    }

    RoundState ApplySecAggComputed(SecAggStepComputed e)
    {
        var s = SecAgg!;
        var senders = SecAggRound.Ordered(s.MessagesOf(s.Step).Keys);
        s = s.Step switch
        {
            0 => s with { Roster = e.Outputs[0] },
            1 => s with { Forwarded = senders.Select((id, i) => KeyValuePair.Create(id, e.Outputs[i])).ToImmutableDictionary() },
            _ => s with { Request = e.Outputs[0] },
        };
        // The masking step trains first, so it gets the client-training deadline; the others are quick.
        var timeout = s.Step + 1 == 2 ? Job!.ClientTimeout : Job!.SecureAggregation!.StepTimeout;
        return this with { SecAgg = s with { Step = s.Step + 1, Computing = false, Expected = [.. senders], Deadline = e.At + timeout } };
    }

    /// <summary>What the clients phase calls for under secure aggregation.</summary>
    RoundWork SecAggWork()
    {
        var s = SecAgg!;
        if (!s.Computing) return new CollectSecAgg(Round, Attempt, s.Step, s.Waiting, s.Deadline);
        var slm = Slots[Plan!.Consumes[0]];
        var bundles = SecAggRound.Ordered(s.Bundles.Keys);
        return s.Step switch
        {
            0 => new RunServerStep(SecAggRequest(SecAggOperations.Keys, null, [slm, .. Ordered(s.Adverts)], SecAggRound.Ordered(s.Adverts.Keys), [])),
            1 => new RunServerStep(SecAggRequest(SecAggOperations.Route, null, [slm, s.Roster!, .. Ordered(s.Bundles)], bundles, [])),
            _ => new RunServerStep(SecAggRequest(SecAggOperations.Request, null, [slm, s.Roster!, .. Ordered(s.Bundles), .. Ordered(s.Masked)], bundles, SecAggRound.Ordered(s.Masked.Keys))),
        };
    }

    /// <summary>The aggregation of a secure round: the aggregator unmasks the sum and decodes the new adapter.</summary>
    RunAggregation SecAggAggregation()
    {
        var s = SecAgg!;
        var clientsPhase = Job!.Phases.First(p => p.RunBy == PhaseRunner.Clients);
        var slm = Slots[clientsPhase.Consumes[0]];
        var request = SecAggRequest(SecAggOperations.FedAvg, null, [slm, s.Roster!, s.Request!, .. Ordered(s.Masked), .. Ordered(s.Responses)],
            SecAggRound.Ordered(s.Masked.Keys), SecAggRound.Ordered(s.Responses.Keys));
        return new RunAggregation(request);
    }

    /// <summary>The request a client runs for the open step: its inputs are what the server sent it.</summary>
    public StepRequest SecAggClientTask(string clientId)
    {
        var s = SecAgg ?? throw new InvalidOperationException("The round is not running secure aggregation.");
        var slm = Slots[Plan!.Consumes[0]];
        BlobRef Forwarded() => s.Forwarded.TryGetValue(clientId, out var f) ? f
            : throw new InvalidOperationException($"No shares were forwarded to {clientId}: it is not among the clients of step {s.Step}.");
        var (operation, inputs) = s.Step switch
        {
            0 => (SecAggOperations.Advertise, new[] { slm }),
            1 => (SecAggOperations.Share, new[] { slm, s.Roster! }),
            2 => (SecAggOperations.Mask, new[] { slm, s.Roster!, Forwarded() }),
            _ => (SecAggOperations.Unmask, new[] { slm, s.Roster!, Forwarded(), s.Request! }),
        };
        return SecAggRequest(operation, clientId, inputs, [], []);
    }

    StepRequest SecAggRequest(string operation, string? clientId, IReadOnlyList<BlobRef> inputs, IReadOnlyList<string> senders, IReadOnlyList<string> responders)
    {
        var phase = operation == SecAggOperations.FedAvg ? Phase : Job!.Phases.First(p => p.RunBy == PhaseRunner.Clients).Name;
        // A client's steps use its training seed (the masking step trains); server steps use the phase's.
        var seed = clientId is null ? StepSeeds.For(Job!.Seed, Round, phase) : StepSeeds.For(Job!.Seed, Round, phase, clientId);
        return new StepRequest(Job.JobId, Round, phase, inputs, seed, clientId)
        {
            Operation = operation,
            Spec = Job.DefinitionRef,
            SecAgg = new SecAggStepSpec(Attempt, SecAgg!.Step, Job.ClientIds, Job.SecureAggregation!, senders, responders),
        };
    }

    static IEnumerable<BlobRef> Ordered(ImmutableDictionary<string, BlobRef> messages) =>
        messages.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value);
}

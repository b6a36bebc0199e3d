using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Actors.Server;

/// <summary>
/// The one step a job entity has asked for (of its worker or an aggregator) and is waiting on, with its failed attempts.
/// Working memory, deliberately not persisted: a recovered entity asks again for whatever step its persisted state calls
/// for, and a step is a pure function of its inputs, so asking twice is harmless.
/// </summary>
public sealed class PendingStep(RetryPolicy retries)
{
    int failures;

    /// <summary>The step in flight, as "round/phase"; null when none is.</summary>
    public string? Key { get; private set; }

    // The secure-aggregation steps of one clients phase are told apart by attempt and step.
    public static string KeyOf(StepRequest request) =>
        request.SecAgg is { } s ? $"{request.Round}/{request.Phase}/{s.Attempt}/{s.Step}/{request.Operation}" : $"{request.Round}/{request.Phase}";

    public bool IsFor(StepRequest request) => Key == KeyOf(request);

    /// <summary>Records that <paramref name="request"/> is being asked for; false when it already is (do not send again).</summary>
    public bool Begin(StepRequest request)
    {
        var key = KeyOf(request);
        if (Key == key) return false;
        if (Key is not null) failures = 0;
        Key = key;
        return true;
    }

    public void Succeeded()
    {
        Key = null;
        failures = 0;
    }

    /// <summary>Forget the request (it will be asked for again, or never: the job ended).</summary>
    public void Drop() => Key = null;

    /// <summary>Records a failure: the attempts so far and the delay before the next, or null when the retries are spent.</summary>
    public (int Attempts, TimeSpan? RetryIn) Failed()
    {
        failures++;
        return (failures, failures >= retries.MaxAttempts ? null : retries.DelayAfter(failures));
    }
}

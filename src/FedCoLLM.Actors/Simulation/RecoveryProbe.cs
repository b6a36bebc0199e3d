using System.Diagnostics;
using Akka.Actor;
using Akka.Persistence;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Server;

namespace FedCoLLM.Actors.Simulation;

/// <summary>What one recovery of a job's state cost: events replayed after the snapshot (if one was used), and the time
/// from the probe's start to its <see cref="RecoveryCompleted"/>.</summary>
public sealed record RecoveryTiming(long ToSequenceNr, bool UsedSnapshot, long EventsReplayed, double Seconds, int Round, string Phase);

/// <summary>
/// Recovers a job entity's state exactly as <see cref="ServerActor"/> does (the latest snapshot offered, then the
/// events after it folded with <see cref="RoundState.Apply"/>), read-only and up to a chosen sequence number, and
/// reports how long it took: the bench's measure of recovery time after N rounds, with snapshots and without. It never
/// persists, so it can run beside the live entity of a finished job.
/// </summary>
public sealed class RecoveryProbe : ReceivePersistentActor
{
    public static Props Props(string jobId, long toSequenceNr, bool useSnapshots, TaskCompletionSource<RecoveryTiming> done) =>
        Akka.Actor.Props.Create(() => new RecoveryProbe(jobId, toSequenceNr, useSnapshots, done));

    readonly string jobId;
    readonly long toSequenceNr;
    readonly bool useSnapshots;
    readonly TaskCompletionSource<RecoveryTiming> done;
    readonly long started = Stopwatch.GetTimestamp();
    RoundState state = RoundState.Empty;
    bool snapshot;
    long replayed;

    public override string PersistenceId => ServerActor.PersistenceIdPrefix + jobId;

    public override Recovery Recovery => new(useSnapshots ? new SnapshotSelectionCriteria(toSequenceNr) : SnapshotSelectionCriteria.None, toSequenceNr);

    public RecoveryProbe(string jobId, long toSequenceNr, bool useSnapshots, TaskCompletionSource<RecoveryTiming> done)
    {
        this.jobId = jobId;
        this.toSequenceNr = toSequenceNr;
        this.useSnapshots = useSnapshots;
        this.done = done;
        Recover<SnapshotOffer>(offer =>
        {
            state = (RoundState)offer.Snapshot;
            snapshot = true;
        });
        Recover<IRoundEvent>(e =>
        {
            state = state.Apply(e);
            replayed++;
        });
        Recover<RecoveryCompleted>(_ =>
        {
            done.TrySetResult(new RecoveryTiming(toSequenceNr, snapshot, replayed, Stopwatch.GetElapsedTime(started).TotalSeconds, state.Round, state.Phase.ToString()));
            Context.Stop(Self);
        });
        CommandAny(_ => { });
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        done.TrySetException(new InvalidOperationException($"Recovering {PersistenceId} up to {toSequenceNr} failed: {reason.Message}", reason));
        base.OnRecoveryFailure(reason, message);
    }
}

/// <summary>Runs <see cref="RecoveryProbe"/>s.</summary>
public static class Recoveries
{
    /// <summary>Runs one probe in <paramref name="system"/> and waits for its timing.</summary>
    public static async Task<RecoveryTiming> MeasureAsync(ActorSystem system, string jobId, long toSequenceNr, bool useSnapshots, TimeSpan timeout)
    {
        var done = new TaskCompletionSource<RecoveryTiming>(TaskCreationOptions.RunContinuationsAsynchronously);
        system.ActorOf(RecoveryProbe.Props(jobId, toSequenceNr, useSnapshots, done), $"recovery-probe-{Guid.NewGuid():N}");
        return await done.Task.WaitAsync(timeout);
    }
}

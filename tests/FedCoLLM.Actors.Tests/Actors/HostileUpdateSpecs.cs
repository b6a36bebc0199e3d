using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Tests.Shared;

namespace FedCoLLM.Actors.Tests.Actors;

/// <summary>
/// Hostile input never stops a round: one honest client and one client per kind of bad update (named after its fault)
/// in one job on a real node (SQLite journal, blob store on disk, real training for the honest client). Each bad update
/// is refused with its reason journaled, and the round completes with the honest one alone.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class HostileUpdateSpecs
{
    const string Honest = "noun.animal";

    /// <summary>Trains the honest client for real; every other client sends <see cref="HostileUpdates.Make"/> of the adapter it was given.</summary>
    sealed class HostileRunner(IStepRunner inner, IBlobStore store) : IStepRunner
    {
        public StepResult Run(StepRequest request, string? dataPath, IProgress<StepProgress> progress, CancellationToken cancellation)
        {
            if (request.Phase != RoundPhase.ClientsTraining || request.ClientId is not { } client || client == Honest)
                return inner.Run(request, dataPath, progress, cancellation);
            var bad = HostileUpdates.Make(client, store.Read(request.Inputs[0]));
            return new StepResult([store.Put(bad)], new Dictionary<string, double> { ["train_loss"] = 1.0 }, HostileUpdates.SampleCount(client));
        }
    }

    [Fact]
    public async Task Every_kind_of_bad_update_is_refused_with_its_reason_journaled_and_the_round_completes_with_the_others()
    {
        const string job = "hostile";
        using var run = new RunDirectory();
        var runner = new HostileRunner(TestNode.RealRunner(run), new DirectoryBlobStore(run.Blobs));
        string[] clients = [Honest, .. HostileUpdates.Faults];
        // The hostile clients never read their data: they share the honest client's file.
        await using var node = TestNode.Start(run, job, runner, clients, localClient: id => Tiny.Client(Honest) with { ClientId = id });
        await node.StartJob(Tiny.Spec(job, clients));

        var final = await node.WaitForEnd(job, TimeSpan.FromMinutes(3));

        Assert.True(final.Phase == RoundPhase.Completed, $"{final.Phase}: {final.FailureReason}");
        var events = await node.JournalEvents(job);
        var rejected = events.OfType<ClientUpdateRejected>().ToArray();
        Assert.Equal(HostileUpdates.Faults.Order(StringComparer.Ordinal), rejected.Select(r => r.ClientId).Order(StringComparer.Ordinal));
        foreach (var r in rejected)
        {
            Assert.Equal(r.ClientId, r.Fault); // each refused for its own fault, not a neighbouring check
            Assert.False(string.IsNullOrWhiteSpace(r.Reason));
        }
        Assert.Equal([Honest], events.OfType<ClientUpdateAccepted>().Select(u => u.ClientId));
        Assert.Equal([Honest], final.History.Single().Participants);
        Assert.Empty(events.OfType<JobFailed>());
        // An oversized update is refused from its declared size: its bytes never reach the server's store.
        var oversized = rejected.Single(r => r.Fault == UpdateFault.Oversized);
        Assert.True(oversized.Update.Size > UpdateLimits.MaxBytes(final.History.Single().Slm.Size));
    }
}

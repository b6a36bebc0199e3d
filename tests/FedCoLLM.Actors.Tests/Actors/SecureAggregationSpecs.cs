using System.Collections.Concurrent;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Learning.Lora;

namespace FedCoLLM.Actors.Tests.Actors;

/// <summary>
/// Secure aggregation end to end on a real node (the tiny WordNet models, two client silos, SQLite journal): the job
/// completes, the server never holds a client's adapter, the aggregate equals plaintext FedAvg up to quantization,
/// and a node killed mid-protocol resumes to a bit-identical result.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class SecureAggregationSpecs
{
    static readonly SecureAggregationSpec Secure = new(MaxDropouts: 0, Clip: 0.5, MaxSamplesPerClient: 10_000, StepTimeout: TimeSpan.FromMinutes(2));

    static JobSpec SecureSpec(string id) => Tiny.Spec(id) with { SecureAggregation = Secure };

    /// <summary>The tiny setup with four client steps: one step under the warm-up schedule has learning rate 0 and
    /// would leave every client's adapter equal to the global one, which would make the comparison empty.</summary>
    static readonly Lazy<FedCoLLM.Learning.Federation.FederationSteps> Training = new(() =>
    {
        var setup = Tiny.Setup();
        return new(setup with { ClientTraining = setup.ClientTraining with { MaxSteps = 4 } });
    });

    static IStepRunner TrainingRunner(RunDirectory run) =>
        new LearningStepRunner(new FixedJobSetup(new JobSetup(Training.Value, Tiny.Server, _ => null, () => null)), new DirectoryBlobStore(run.Blobs));

    static AdapterWeights Aggregate(RunDirectory run, IReadOnlyList<IRoundEvent> events) =>
        AdapterWeights.FromBytes(new DirectoryBlobStore(run.Blobs).Read(events.OfType<PhaseCompleted>().Single(p => p.Phase == RoundPhase.Aggregating).Output!));

    [Fact]
    public async Task A_secure_job_completes_without_the_server_ever_holding_an_adapter_and_matches_plaintext_FedAvg()
    {
        using var run = new RunDirectory();
        await using var node = TestNode.Start(run, "secure", TrainingRunner(run), Tiny.TwoClients);

        Assert.Equal(Outcome.Accepted, (await node.StartJob(SecureSpec("secure"))).Outcome);
        var secure = await node.WaitForEnd("secure", TimeSpan.FromSeconds(120));
        Assert.True(secure.Phase == RoundPhase.Completed, secure.FailureReason);
        Assert.Equal(Tiny.TwoClients, Assert.Single(secure.History).Participants);
        var secureEvents = await node.JournalEvents("secure");
        Assert.Empty(secureEvents.OfType<ClientUpdateAccepted>());
        Assert.Equal(4 * Tiny.TwoClients.Length, secureEvents.OfType<SecAggMessageAccepted>().Count());
        Assert.Equal([0, 1, 2], secureEvents.OfType<SecAggStepComputed>().Select(e => e.Step));
        var blobsAfterSecure = Directory.EnumerateFiles(run.Blobs, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToHashSet();

        // The same job in the clear: same seeds, so the clients train bit-identical adapters.
        Assert.Equal(Outcome.Accepted, (await node.StartJob(Tiny.Spec("plain"))).Outcome);
        var plain = await node.WaitForEnd("plain", TimeSpan.FromSeconds(120));
        Assert.Equal(RoundPhase.Completed, plain.Phase);
        var plainEvents = await node.JournalEvents("plain");
        var updates = plainEvents.OfType<ClientUpdateAccepted>().ToList();
        Assert.Equal(2, updates.Count);
        var initial = plainEvents.OfType<AdaptersInitialized>().Single().Slm;
        Assert.All(updates, u => Assert.NotEqual(initial, u.Update)); // the clients did change their adapters
        // Those adapters never existed as blobs while the secure job ran: its clients kept them in memory.
        foreach (var u in updates)
            Assert.DoesNotContain(u.Update.Sha256, blobsAfterSecure);

        var a = Aggregate(run, secureEvents);
        var b = Aggregate(run, plainEvents);
        long total = updates.Sum(u => u.SampleCount);
        var codec = new FedCoLLM.Learning.SecureAggregation.FixedPoint(Secure.Clip, Secure.MaxSamplesPerClient, 2);
        double bound = codec.MeanErrorBound(2, total) + Math.ScaleB(1.0, -20);
        double worst = 0;
        foreach (var name in b.Names)
            for (int i = 0; i < b[name].Values.Length; i++)
                worst = Math.Max(worst, Math.Abs(a[name].Values[i] - b[name].Values[i]));
        Assert.True(worst <= bound, $"secure vs plaintext aggregate differ by {worst}, bound {bound}");
        var secureRound = Assert.Single(secure.History);
        var plainRound = Assert.Single(plain.History);
        foreach (var (key, value) in plainRound.Metrics.Where(m => m.Key.Contains("/acc")))
            Assert.True(Math.Abs(value - secureRound.Metrics[key]) <= 0.125, $"{key}: secure {secureRound.Metrics[key]} vs plaintext {value}");
        Assert.Equal(total, secureRound.Metrics["secagg/total_samples"]);
    }

    [Fact]
    public async Task A_node_killed_mid_protocol_resumes_and_ends_bit_identical_to_an_uninterrupted_run()
    {
        // Reference: an uninterrupted secure run.
        BlobRef expected;
        using (var reference = new RunDirectory())
        {
            await using var node = TestNode.Start(reference, "resume", TrainingRunner(reference), Tiny.TwoClients);
            Assert.Equal(Outcome.Accepted, (await node.StartJob(SecureSpec("resume"))).Outcome);
            var done = await node.WaitForEnd("resume", TimeSpan.FromSeconds(120));
            Assert.True(done.Phase == RoundPhase.Completed, done.FailureReason);
            expected = Assert.Single(done.History).Slm;
        }

        using var run = new RunDirectory();
        // Killed while the clients mask (training included): steps 0 and 1 are journaled, step 2 is in flight.
        var first = new HoldOperation(TrainingRunner(run), SecAggOperations.Mask);
        var crashed = TestNode.Start(run, "resume", first, Tiny.TwoClients);
        try
        {
            Assert.Equal(Outcome.Accepted, (await crashed.StartJob(SecureSpec("resume"))).Outcome);
            await crashed.WaitFor("resume", s => s.SecAgg is { Step: 2 }, TimeSpan.FromSeconds(60), "the masking step");
            await first.Reached.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        }
        finally
        {
            await crashed.Crash();
        }

        var second = new HoldOperation(TrainingRunner(run), SecAggOperations.Mask);
        second.Release();
        await using var again = TestNode.Start(run, "resume", second, Tiny.TwoClients);
        var recovered = await again.WaitFor("resume", s => s.Job is not null, TimeSpan.FromSeconds(30), "the job entity to recover");
        Assert.Equal(2, recovered.SecAgg?.Step ?? -1);
        var final = await again.WaitForEnd("resume", TimeSpan.FromSeconds(120));
        Assert.True(final.Phase == RoundPhase.Completed, final.FailureReason);
        Assert.Equal(expected, Assert.Single(final.History).Slm);

        // Nothing before the crash was redone: each step's server part is journaled once, each client message once.
        var events = await again.JournalEvents("resume");
        Assert.Equal([0, 1, 2], events.OfType<SecAggStepComputed>().Select(e => e.Step));
        Assert.Equal(8, events.OfType<SecAggMessageAccepted>().Count());
        Assert.DoesNotContain(second.Calls, c => c.Operation is SecAggOperations.Advertise or SecAggOperations.Share or SecAggOperations.Keys or SecAggOperations.Route);
    }
}

/// <summary>Secure rounds with a client that never answers: within t the round goes on without it; beyond t the
/// attempt is abandoned with the reason and, after the last attempt, the job fails having aggregated nothing.</summary>
[Collection(FederationCollection.Name)]
public sealed class SecureAggregationDropoutSpecs
{
    [Fact]
    public async Task With_t_1_of_3_a_silent_client_is_dropped_at_the_step_deadline_and_the_round_commits_without_it()
    {
        string[] enrolled = ["noun.animal", "noun.food", "noun.plant"];
        using var run = new RunDirectory();
        await using var node = TestNode.Start(run, "drop1", TestNode.RealRunner(run), ["noun.animal", "noun.plant"]);
        var spec = Tiny.Spec("drop1", enrolled) with { SecureAggregation = new SecureAggregationSpec(1, 0.5, 10_000, TimeSpan.FromSeconds(3)) };
        Assert.Equal(Outcome.Accepted, (await node.StartJob(spec)).Outcome);

        var final = await node.WaitForEnd("drop1", TimeSpan.FromSeconds(120));
        Assert.True(final.Phase == RoundPhase.Completed, final.FailureReason);
        var round = Assert.Single(final.History);
        Assert.Equal(["noun.animal", "noun.plant"], round.Participants);
        Assert.Equal(["noun.food"], round.Missing);
        var closed = Assert.Single((await node.JournalEvents("drop1")).OfType<SecAggStepClosed>());
        Assert.Equal(0, closed.Step);
        Assert.Equal(["noun.food"], closed.Dropped);
        Assert.Equal(2, round.Metrics["secagg/contributors"]);
    }

    [Fact]
    public async Task Beyond_t_the_attempt_is_abandoned_with_the_reason_and_the_job_fails_having_aggregated_nothing()
    {
        using var run = new RunDirectory();
        await using var node = TestNode.Start(run, "drop2", TestNode.RealRunner(run), ["noun.animal"]);
        var spec = Tiny.Spec("drop2") with { MaxRoundAttempts = 2, SecureAggregation = new SecureAggregationSpec(0, 0.5, 10_000, TimeSpan.FromSeconds(2)) };
        Assert.Equal(Outcome.Accepted, (await node.StartJob(spec)).Outcome);

        var final = await node.WaitForEnd("drop2", TimeSpan.FromSeconds(60));
        Assert.Equal(RoundPhase.Failed, final.Phase);
        var events = await node.JournalEvents("drop2");
        var abandoned = Assert.Single(events.OfType<RoundAbandoned>());
        Assert.Contains("secure aggregation step 'advertise-keys': only 1 of 2 clients", abandoned.Reason);
        Assert.Contains("missing: noun.plant", abandoned.Reason);
        Assert.Contains("threshold 2", abandoned.Reason);
        Assert.Contains("after 2 attempts", Assert.Single(events.OfType<JobFailed>()).Reason);
        // Both attempts kept the present client's key advertisement, and nothing went further.
        Assert.Equal([1, 2], events.OfType<SecAggMessageAccepted>().Select(m => m.Attempt));
        Assert.Empty(events.OfType<SecAggStepComputed>());
        Assert.Empty(events.OfType<PhaseCompleted>());
    }
}

/// <summary>Delegates to a real runner, but blocks (cancellably) every step of one operation until released.</summary>
sealed class HoldOperation(IStepRunner inner, string operation) : IStepRunner
{
    readonly ManualResetEventSlim release = new(false);
    public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public ConcurrentQueue<StepRequest> Calls { get; } = new();

    public void Release() => release.Set();

    public StepResult Run(StepRequest request, string? dataPath, IProgress<StepProgress> progress, CancellationToken cancellation)
    {
        Calls.Enqueue(request);
        if (request.Operation == operation)
        {
            Reached.TrySetResult();
            release.Wait(cancellation);
        }
        return inner.Run(request, dataPath, progress, cancellation);
    }
}

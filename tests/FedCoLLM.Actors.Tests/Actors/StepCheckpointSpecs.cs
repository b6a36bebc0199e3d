using System.Diagnostics;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Learning.Federation;

namespace FedCoLLM.Actors.Tests.Actors;

/// <summary>
/// A server step re-dispatched after its node died resumes from the checkpoint the dead run left in the shared store,
/// through the same runner the nodes use (<see cref="LearningStepRunner"/> with <see cref="StepCheckpoints"/>), and still
/// returns the bytes of an uninterrupted run; a step whose lock another live process holds runs without checkpoints.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class StepCheckpointSpecs : IDisposable
{
    readonly Blobs.TempDirectory dir = new();
    readonly FederationSteps steps;
    readonly DirectoryBlobStore store;
    readonly StepRequest request;

    public StepCheckpointSpecs()
    {
        var tiny = Tiny.Setup();
        // Three optimizer steps (8 public examples, batches of 2), so a kill after the second leaves one to resume.
        steps = new FederationSteps(tiny with { SlmDistillation = tiny.SlmDistillation with { BatchSize = 2, MaxSteps = 3 } });
        store = new DirectoryBlobStore(Path.Combine(dir.Path, "blobs"));
        var student = store.Put(steps.InitialAdapter(ModelKind.Slm, 1));
        var teacher = store.Put(steps.TeacherLogits(ModelKind.Llm, steps.InitialAdapter(ModelKind.Llm, 2), Tiny.Server.PublicSetPath));
        request = new StepRequest("checkpointed", 1, RoundPhase.SlmDistillation, [student, teacher], Seed: 4) { Operation = Operations.DistillSlm };
    }

    LearningStepRunner Runner(StepCheckpoints? checkpoints) =>
        new(new FixedJobSetup(new JobSetup(steps, Tiny.Server, _ => null, () => null)), store, Path.Combine(dir.Path, "keys"), checkpoints);

    sealed class Steps(Action<StepProgress> onStep) : IProgress<StepProgress>
    {
        public void Report(StepProgress value) => onStep(value);
    }

    [Fact]
    public void A_distillation_killed_after_two_steps_resumes_at_the_third_returns_the_same_bytes_and_leaves_nothing_behind()
    {
        var whole = Runner(null).Run(request, null, new Steps(_ => { }), TestContext.Current.CancellationToken);
        var checkpoints = new StepCheckpoints(StepCheckpoints.DefaultRoot(store), TimeSpan.Zero);
        var stepDirectory = checkpoints.DirectoryOf(request);

        using var kill = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Runner(checkpoints).Run(request, null, new Steps(p => { if (p.Step == 2) kill.Cancel(); }), kill.Token));
        Assert.True(Directory.Exists(stepDirectory), $"the killed step left no checkpoint in {stepDirectory}");

        var resumedAt = new List<int>();
        var resumed = Runner(checkpoints).Run(request, null, new Steps(p => resumedAt.Add(p.Step)), TestContext.Current.CancellationToken);

        Assert.Equal(3, resumedAt[0]); // steps 1 and 2 came from the checkpoint
        Assert.Equal(whole.Outputs, resumed.Outputs); // content addresses: the same bytes
        Assert.Equal(whole.Metrics["slm_distill_loss"], resumed.Metrics["slm_distill_loss"]);
        Assert.Empty(Directory.GetFileSystemEntries(checkpoints.Root)); // checkpoint, swap folders and lock all gone
        Assert.DoesNotContain(store.List(), b => b.Sha256.StartsWith('.')); // the folder inside the store is never a blob
    }

    [Fact]
    public void A_step_whose_lock_another_process_holds_runs_without_checkpoints_and_returns_the_same_bytes()
    {
        var whole = Runner(null).Run(request, null, new Steps(_ => { }), TestContext.Current.CancellationToken);
        var checkpoints = new StepCheckpoints(Path.Combine(dir.Path, "checkpoints"), TimeSpan.Zero);
        var stepDirectory = checkpoints.DirectoryOf(request);
        Directory.CreateDirectory(checkpoints.Root);

        // The old host, alive on the far side of a partition: flock(1) holds the step's lock as .NET's FileShare.None takes it.
        using var holder = Process.Start(new ProcessStartInfo("flock", ["-x", stepDirectory + ".lock", "-c", "echo held; sleep 120"])
        {
            RedirectStandardOutput = true,
        })!;
        try
        {
            Assert.Equal("held", holder.StandardOutput.ReadLine());
            var sawCheckpoint = false;
            var result = Runner(checkpoints).Run(request, null, new Steps(_ => sawCheckpoint |= Directory.Exists(stepDirectory)), TestContext.Current.CancellationToken);
            Assert.False(sawCheckpoint, "a second writer checkpointed into a step directory another process holds");
            Assert.Equal(whole.Outputs, result.Outputs);
        }
        finally
        {
            holder.Kill();
        }
    }

    [Fact]
    public void The_key_names_everything_the_output_depends_on_and_nothing_else()
    {
        var key = StepCheckpoints.Key(request);
        Assert.Equal(key, StepCheckpoints.Key(request with { Round = 7 })); // the seed already carries the round
        Assert.NotEqual(key, StepCheckpoints.Key(request with { Seed = 5 }));
        Assert.NotEqual(key, StepCheckpoints.Key(request with { Inputs = [request.Inputs[1], request.Inputs[0]] }));
        Assert.NotEqual(key, StepCheckpoints.Key(request with { Operation = Operations.DistillLlm }));
        Assert.NotEqual(key, StepCheckpoints.Key(request with { JobId = "another" }));
        Assert.Matches("^[0-9a-f]{64}$", key);
    }

    public void Dispose()
    {
        steps.Dispose();
        dir.Dispose();
    }
}

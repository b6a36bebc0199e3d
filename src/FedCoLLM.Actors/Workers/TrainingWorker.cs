using Akka.Actor;
using Akka.Event;
using FedCoLLM.Actors.Rounds;

namespace FedCoLLM.Actors.Workers;

/// <summary>
/// A child that runs one TorchSharp step at a time as a cancellable background task and pipes the outcome to
/// its parent (the BatchImportActor pattern): the mailbox stays free, PostStop cancels the task. A failed step
/// is reported to the parent (which decides about retrying) and then rethrown, so the supervisor restarts the
/// worker with fresh state instead of leaving a possibly half-broken one running.
/// </summary>
public sealed class TrainingWorker : ReceiveActor
{
    public static Props Props(IStepRunner runner) => Akka.Actor.Props.Create(() => new TrainingWorker(runner));

    /// <summary>Local only: never crosses the network.</summary>
    public sealed record RunStep(StepRequest Request, string? DataPath = null) : INoSerializationVerificationNeeded;
    public sealed record StepSucceeded(StepRequest Request, StepResult Result) : INoSerializationVerificationNeeded;
    public sealed record StepFailed(StepRequest Request, string Error) : INoSerializationVerificationNeeded;
    public sealed record StepProgressed(StepRequest Request, StepProgress Progress) : INoSerializationVerificationNeeded;
    sealed record Finished(StepRequest Request, StepResult? Result, Exception? Error) : INoSerializationVerificationNeeded;

    public sealed class StepFailedException(string message, Exception inner) : Exception(message, inner);

    readonly ILoggingAdapter log = Context.GetLogger();
    readonly CancellationTokenSource cancellation = new();
    StepRequest? running;

    public TrainingWorker(IStepRunner runner)
    {
        Receive<RunStep>(run =>
        {
            if (running is not null)
            {
                if (running != run.Request) log.Warning("Worker busy with {0}; {1} must wait for it", running, run.Request);
                return;
            }
            running = run.Request;
            var parent = Context.Parent;
            var request = run.Request;
            var progress = new ThrottledProgress(p => parent.Tell(new StepProgressed(request, p)));
            var token = cancellation.Token;
            (runner.NeedsTorchGate
                    ? TorchGate.RunAsync(() => runner.Run(request, run.DataPath, progress, token), token)
                    : Task.Run(() => runner.Run(request, run.DataPath, progress, token), token))
                .PipeTo(Self, success: r => new Finished(request, r, null), failure: e => new Finished(request, null, e));
        });
        Receive<Finished>(f =>
        {
            running = null;
            if (f.Result is not null)
            {
                Context.Parent.Tell(new StepSucceeded(f.Request, f.Result));
                return;
            }
            var error = f.Error is AggregateException { InnerException: { } inner } ? inner : f.Error!;
            Context.Parent.Tell(new StepFailed(f.Request, $"{error.GetType().Name}: {error.Message}"));
            throw new StepFailedException($"step {f.Request} failed: {error.Message}", error);
        });
    }

    protected override void PostStop()
    {
        cancellation.Cancel();
        cancellation.Dispose();
    }

    /// <summary>At most a few progress messages per second; the last step is always reported.</summary>
    sealed class ThrottledProgress(Action<StepProgress> send) : IProgress<StepProgress>
    {
        long lastTicks;

        public void Report(StepProgress value)
        {
            long now = Environment.TickCount64;
            if (value.Step < value.TotalSteps && now - lastTicks < 250) return;
            lastTicks = now;
            send(value);
        }
    }
}

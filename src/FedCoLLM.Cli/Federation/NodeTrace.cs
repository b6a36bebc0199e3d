using Akka.Actor;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Workers;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// One line per step a node's worker starts and ends, and per blob it starts serving: what an operator tails in
/// a node's log, and what <c>fedcollm chaos</c> reads to kill a node in the middle of training or of a transfer.
/// </summary>
public static class NodeTrace
{
    public const string StepStarted = "step started:";
    public const string StepFinished = "step finished:";
    public const string Serving = "serving blob";

    static void Line(string text) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss.fff}] {text}");

    /// <summary>Wraps a step runner so each step is announced before and after it runs.</summary>
    public static IStepRunner Steps(IStepRunner inner) => new TracingStepRunner(inner);

    /// <summary>Prints each <see cref="BlobServing"/> this node's blob server publishes.</summary>
    public static void Transfers(ActorSystem system)
    {
        var printer = system.ActorOf(Props.Create(() => new TransferPrinter()), "trace-transfers");
        system.EventStream.Subscribe(printer, typeof(BlobServing));
    }

    sealed class TracingStepRunner(IStepRunner inner) : IStepRunner
    {
        public StepResult Run(StepRequest request, string? dataPath, IProgress<StepProgress> progress, CancellationToken cancellation)
        {
            // A secure-aggregation step names its operation and attempt: chaos kills a client mid-protocol by them.
            var secAgg = request.SecAgg is { } sa ? $" {request.Operation} attempt {sa.Attempt}" : "";
            var name = $"round {request.Round} {request.Phase}{(request.ClientId is null ? "" : " " + request.ClientId)}{secAgg} · job {request.JobId} spec {request.Spec?.Sha256[..12] ?? "none"}";
            Line($"{StepStarted} {name}");
            var result = inner.Run(request, dataPath, progress, cancellation);
            Line($"{StepFinished} {name}");
            return result;
        }
    }

    sealed class TransferPrinter : ReceiveActor
    {
        public TransferPrinter() =>
            Receive<BlobServing>(s => Line($"{Serving} {s.Blob.Sha256[..12]} ({s.Blob.Size:N0} bytes) to {s.Requester}"));
    }
}

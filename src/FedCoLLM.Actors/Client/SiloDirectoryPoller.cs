using Akka.Actor;
using FedCoLLM.Actors.Protocol;

namespace FedCoLLM.Actors.Client;

/// <summary>
/// One per node that hosts client silos: asks the job directory which running jobs enrol each of them, in batches, and
/// tells each <see cref="ClientSilo"/> its answer. Silos used to poll one by one; with thousands of silos on a node
/// (<c>fedcollm bench scale --clients 10000</c>) that was thousands of directory queries a second, each scanning every
/// job's enrolment, and the server node fell behind on everything else.
/// </summary>
public sealed class SiloDirectoryPoller : ReceiveActor, IWithTimers
{
    /// <summary>Silos per query: a query and its answer stay far below the 128,000-byte remoting frame even with long
    /// client and job ids.</summary>
    public const int BatchSize = 200;

    public const string DefaultName = "client-directory-poller";

    public static Props Props(IActorRef directory, IReadOnlyDictionary<string, IActorRef> silos, TimeSpan interval) =>
        Akka.Actor.Props.Create(() => new SiloDirectoryPoller(directory, silos, interval));

    sealed record PollTick : INoSerializationVerificationNeeded { public static readonly PollTick Instance = new(); }

    public ITimerScheduler Timers { get; set; } = null!;

    public SiloDirectoryPoller(IActorRef directory, IReadOnlyDictionary<string, IActorRef> silos, TimeSpan interval)
    {
        var queries = silos.Keys.Order(StringComparer.Ordinal).Chunk(BatchSize).Select(ids => new JobsForClients(ids)).ToArray();
        Receive<PollTick>(_ =>
        {
            foreach (var query in queries) directory.Tell(query);
        });
        Receive<ClientsJobs>(answer =>
        {
            foreach (var client in answer.Clients)
                if (silos.TryGetValue(client.ClientId, out var silo)) silo.Tell(client);
        });
        Timers.StartPeriodicTimer("poll", PollTick.Instance, TimeSpan.Zero, interval);
    }
}

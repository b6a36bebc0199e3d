using Akka.Actor;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;

namespace FedCoLLM.Actors.Client;

/// <summary>
/// One data silo on this node: a client id and the private training file only it reads. Told by its node's
/// <see cref="SiloDirectoryPoller"/> which running jobs enrol it, it keeps one <see cref="ClientActor"/> per such job
/// (several jobs may train on the same silo; their steps queue on the node's one TorchSharp gate). A job that ended
/// stops its actor.
/// </summary>
public sealed class ClientSilo : ReceiveActor
{
    public static Props Props(string clientId, string dataPath, IActorRef servers, NodeServices services, Identity.ClientSigner? signer = null) =>
        Akka.Actor.Props.Create(() => new ClientSilo(clientId, dataPath, servers, services, signer));

    readonly Dictionary<string, IActorRef> jobs = new(StringComparer.Ordinal);
    readonly HashSet<string> ended = new(StringComparer.Ordinal);

    public ClientSilo(string clientId, string dataPath, IActorRef servers, NodeServices services, Identity.ClientSigner? signer = null)
    {
        Receive<ClientJobs>(running =>
        {
            foreach (var jobId in running.JobIds.Where(j => !jobs.ContainsKey(j) && !ended.Contains(j)))
            {
                var actor = Context.ActorOf(ClientActor.Props(jobId, clientId, dataPath, servers, services, signer), Uri.EscapeDataString(jobId));
                Context.Watch(actor);
                jobs[jobId] = actor;
            }
            // Not stopped outright: a job's actor still reports its final download after the job left the directory.
            foreach (var gone in jobs.Keys.Except(running.JobIds).ToList()) jobs[gone].Tell(ClientActor.Finish.Instance);
        });
        Receive<JobEnded>(e => ended.Add(e.JobId));
        Receive<Terminated>(t =>
        {
            foreach (var id in jobs.Where(kv => kv.Value.Equals(t.ActorRef)).Select(kv => kv.Key).ToList()) jobs.Remove(id);
        });
    }

    // A job actor that failed is restarted: the job goes on, and giving up on a client is the server's call.
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(maxNrOfRetries: -1, withinTimeRange: Timeout.InfiniteTimeSpan, _ => Directive.Restart);
}

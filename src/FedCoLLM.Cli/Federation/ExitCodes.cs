using Akka.Actor;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// Why a <c>fedcollm node</c> process ended, as its exit code. A node the cluster downed (the split-brain resolver, or a
/// new incarnation at the same address replacing it) or that could not join in time must not live on as a zombie: it
/// exits, and its supervisor (Kubernetes' restartPolicy, the lab, <c>fedcollm chaos</c>) starts a new incarnation,
/// which joins with a new UID (docs/reliability.md, "Restart at the same address").
/// </summary>
public static class ExitCodes
{
    public const int Stopped = 0;
    /// <summary>Removed from the cluster: downed, or replaced by a newer incarnation at its address.</summary>
    public const int Downed = 3;
    /// <summary>No seed node answered within <c>akka.cluster.shutdown-after-unsuccessful-join-seed-nodes</c>.</summary>
    public const int JoinFailed = 4;
    /// <summary>The ActorSystem ended for another reason.</summary>
    public const int Terminated = 5;

    public static int ForShutdown(CoordinatedShutdown.Reason? reason, Action<string> say, string next = "so that the supervisor starts a new incarnation")
    {
        var (code, why) = reason switch
        {
            CoordinatedShutdown.ClusterDowningReason => (Downed, "the cluster downed this node"),
            CoordinatedShutdown.ClusterLeavingReason => (Downed, "this node was removed from the cluster"),
            CoordinatedShutdown.ClusterJoinUnsuccessfulReason => (JoinFailed, "no seed node answered in time"),
            _ => (Terminated, $"the actor system ended ({reason?.GetType().Name ?? "no reason given"})"),
        };
        say($"[{DateTime.Now:HH:mm:ss}] {why}; exiting with code {code} {next}.");
        return code;
    }
}

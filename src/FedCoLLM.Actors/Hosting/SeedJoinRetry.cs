using Akka.Actor;
using Akka.Configuration;
using FedCoLLM.Actors.Security;

namespace FedCoLLM.Actors.Hosting;

/// <summary>
/// Akka uses one setting, <c>akka.cluster.seed-node-timeout</c>, for two different waits. The first seed waits that long
/// for another seed to answer before it forms a cluster of its own; hocon/cluster.conf keeps it at 15 s so that a restarted
/// first seed does not form an island while the others' remoting still gates its address. Every other node (later seeds,
/// clients, tools) waits that long, after each unanswered round of InitJoin, before asking again; a seed that asked before
/// the first seed had formed got an InitJoinNack and then sat out the whole 15 s, so a cluster whose nodes start together
/// took 11–22 s to form (docs/reliability.md). Only the first seed can form an island, so every other node gets
/// <c>fedcollm.cluster.join-retry</c> (hocon/cluster.conf) instead.
/// </summary>
public static class SeedJoinRetry
{
    public const string JoinRetryKey = "fedcollm.cluster.join-retry";
    const string SeedNodeTimeout = "akka.cluster.seed-node-timeout";

    /// <summary><paramref name="config"/> with seed-node-timeout = join-retry on every node but the first seed; unchanged
    /// where there is no cluster, no seed list or no join-retry.</summary>
    public static Config Apply(Config config)
    {
        if (!config.GetString("akka.actor.provider", "").Contains("cluster", StringComparison.OrdinalIgnoreCase)) return config;
        var retry = config.GetTimeSpan(JoinRetryKey, TimeSpan.Zero, allowInfinite: false);
        if (retry <= TimeSpan.Zero) return config;
        var seeds = config.GetStringList("akka.cluster.seed-nodes");
        if (seeds.Count == 0 || IsFirstSeed(config, seeds[0])) return config;
        return ConfigurationFactory.ParseString($"{SeedNodeTimeout} = {(long)retry.TotalMilliseconds}ms").WithFallback(config);
    }

    /// <summary>Whether this node's own address (public hostname, else hostname, and port) is <paramref name="firstSeed"/>,
    /// as Akka decides it. A node on an ephemeral port (0) is never a seed.</summary>
    public static bool IsFirstSeed(Config config, string firstSeed)
    {
        Address seed;
        try
        {
            seed = Address.Parse(firstSeed);
        }
        catch (UriFormatException)
        {
            return false; // Akka refuses a malformed seed list itself, naming it
        }
        var port = config.GetInt("akka.remote.dot-netty.tcp.port", 0);
        return port != 0 && seed.Port == port && RemotingTls.PublicHost(config) is { } host
            && string.Equals(seed.Host?.TrimEnd('.'), host.TrimEnd('.'), StringComparison.OrdinalIgnoreCase);
    }
}

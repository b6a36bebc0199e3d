using Akka.Configuration;
using FedCoLLM.Actors.Hosting;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// The single-process cluster of <c>fedcollm run</c>: every role in one ActorSystem that joins itself, journaled to
/// SQLite in the run directory. While it runs, its address is in <c>DIR/cluster.address</c>, so <c>fedcollm submit</c>,
/// <c>jobs</c>, <c>status</c>, <c>watch</c> and <c>cancel</c> with <c>--out DIR</c> join it as role-less nodes.
/// </summary>
public static class LocalCluster
{
    public static readonly string[] DefaultConfigFiles = ["local.conf", "sharding.conf", "serialization.conf", "persistence-sqlite.conf"];

    /// <summary>What a role-less node needs to join a running local cluster: no journal, no roles.</summary>
    public static readonly string[] VisitorConfigFiles = ["local.conf", "sharding.conf", "serialization.conf"];

    public static string JournalPath(string outDir) => Path.Combine(Path.GetFullPath(outDir), "journal.db");

    public static string AddressFile(string outDir) => Path.Combine(Path.GetFullPath(outDir), "cluster.address");

    /// <param name="requireNode">Refuse, before anything is written, a configuration that lacks what a node of the local
    /// cluster needs (the cluster provider, remoting, serializers, a journal): <c>fedcollm run</c> would otherwise start and
    /// wait in vain for a shard coordinator.</param>
    public static Config LoadConfig(string outDir, IReadOnlyList<string>? files, bool requireNode = false)
    {
        var journal = JournalPath(outDir);
        var preamble = $"fedcollm.sqlite-file = \"{journal.Replace("\\", "/")}\"";
        // Client keys of the local run (`fedcollm keys new --out DIR/keys`); FEDCOLLM_KEYS_DIR overrides.
        preamble += $"\n{FederationNode.KeysDirectoryKey} = \"{Path.Combine(Path.GetFullPath(outDir), "keys").Replace("\\", "/")}\"";
        var names = files is { Count: > 0 } ? files : DefaultConfigFiles;
        // Checked before the journal file is created, so a bad configuration leaves nothing behind.
        var config = FederationConfig.Load(names, preamble);
        if (requireNode)
        {
            FederationConfig.RequireCluster(config, names);
            FederationConfig.RequireJournal(config, names);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(journal)!);
        SqliteJournalFile.EnableWriteAheadLog(journal);
        return config;
    }
}

using Npgsql;

namespace FedCoLLM.Cli.Chaos;

/// <summary>
/// Where chaos trials run: the PostgreSQL server their fresh databases are made on (reached by the harness through
/// <see cref="Admin"/> and by the nodes through <see cref="ForNodes"/>) and the layout of their node processes.
/// </summary>
public abstract class TrialSite
{
    /// <summary>A connection string for the harness, to a role that may create databases.</summary>
    public abstract string Admin { get; }
    /// <summary>What the nodes are given for the database <paramref name="database"/>.</summary>
    public abstract string ForNodes(string database);
    public abstract ClusterLayout Layout(string directory, string nodesPostgres, string jobFile, string dataDir, IReadOnlyList<string> clientIds);
    /// <summary>Shown in the report: where the nodes ran.</summary>
    public abstract string Describe { get; }
}

/// <summary>Every node on this host's loopback, journaled to the PostgreSQL server of FEDCOLLM_POSTGRES.</summary>
public sealed class LoopbackSite(string admin) : TrialSite
{
    public override string Admin => admin;
    public override string ForNodes(string database) => new NpgsqlConnectionStringBuilder(admin) { Database = database, Pooling = false }.ConnectionString;
    public override ClusterLayout Layout(string directory, string nodesPostgres, string jobFile, string dataDir, IReadOnlyList<string> clientIds) =>
        new LoopbackLayout(directory, nodesPostgres, jobFile, dataDir, clientIds, ChaosCluster.ConfigFiles);
    public override string Describe => "loopback (one host, a port per node; a restarted node gets a new port)";
}

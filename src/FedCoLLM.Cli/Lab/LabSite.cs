using FedCoLLM.Cli.Chaos;

namespace FedCoLLM.Cli.Lab;

/// <summary>Chaos trials in the multi-host lab: each node in its own namespace, restarted at its own address, journaled
/// to the lab's PostgreSQL. The nodes also load hocon/chaos.conf (it paces adapter transfers so that a node can be
/// killed mid-transfer), the one way their command lines differ from the Kubernetes manifests'.</summary>
public sealed class LabSite(LabNetwork network, LabPostgres postgres) : TrialSite
{
    public static readonly string[] ChaosArgs = [.. ChaosCluster.ConfigFiles.SelectMany(f => new[] { "--config", f })];

    public override string Admin => postgres.Admin;
    public override string ForNodes(string database) => postgres.ForNodes(database);
    public override ClusterLayout Layout(string directory, string nodesPostgres, string jobFile, string dataDir, IReadOnlyList<string> clientIds) =>
        new LabLayout(network, directory, nodesPostgres, jobFile, Path.Combine(dataDir, "clients"), clientIds, ChaosArgs);
    public override string Describe => $"the multi-host lab ({network.Hosts.Count} network namespaces, every node on port {LabTopology.RemotingPort}; a restarted node keeps its hostname and address)";
}

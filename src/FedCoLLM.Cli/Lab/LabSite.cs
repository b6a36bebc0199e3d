using FedCoLLM.Cli.Chaos;

namespace FedCoLLM.Cli.Lab;

/// <summary>Trials in the multi-host lab: each node in its own namespace, restarted at its own address, journaled to the
/// lab's PostgreSQL. Chaos trials also load hocon/chaos.conf (<paramref name="pacedTransfers"/>: it paces adapter
/// transfers so that a node can be killed mid-transfer), the one way their command lines differ from the Kubernetes
/// manifests'; lab scenarios run the manifests' command lines exactly.</summary>
public sealed class LabSite(LabNetwork network, LabPostgres postgres, bool pacedTransfers) : TrialSite
{
    public static readonly string[] ChaosArgs = [.. ChaosCluster.ConfigFiles.SelectMany(f => new[] { "--config", f })];

    public LabNetwork Network => network;
    public override string Admin => postgres.Admin;
    public override string ForNodes(string database) => postgres.ForNodes(database);
    public override LabLayout Layout(string directory, string nodesPostgres, string jobFile, string dataDir, IReadOnlyList<string> clientIds) =>
        new LabLayout(network, directory, nodesPostgres, jobFile, Path.Combine(dataDir, "clients"), clientIds, pacedTransfers ? ChaosArgs : null);
    public override string Describe => $"the multi-host lab ({network.Hosts.Count} network namespaces, every node on port {LabTopology.RemotingPort}; a restarted node keeps its hostname and address)";
}

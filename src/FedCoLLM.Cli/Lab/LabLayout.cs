using System.Diagnostics;
using System.Net;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Security;
using FedCoLLM.Cli.Chaos;

namespace FedCoLLM.Cli.Lab;

/// <summary>
/// A chaos cluster in the multi-host lab: every node of <see cref="LabTopology"/> in its own network namespace with the
/// arguments and environment the Kubernetes manifests give its pod, the same port everywhere, its state directory
/// bind-mounted at <see cref="LabTopology.Root"/>, the server blob volume shared by the three servers, each client's
/// data at <see cref="LabTopology.DataDirectory"/>. The follower runs on the lab host <see cref="Control"/>. A killed
/// node restarts at the same hostname, address and port, as a StatefulSet pod does. Remoting is mutual TLS as in the
/// manifests: the layout makes a CA of its own for the trial and one certificate per workload (the three servers share
/// one, as they share a Secret), mounted where the Secret would be (<see cref="LabTopology.TlsDirectory"/>).
/// </summary>
public sealed class LabLayout : ClusterLayout
{
    /// <summary>The lab host of the harness's own cluster clients (the follower, curl).</summary>
    public const string Control = "ctl";

    readonly LabNetwork network;
    readonly Dictionary<string, LabNode> nodes;
    readonly string directory, nodesPostgres, jobFile, clientData;
    readonly string[] extraArgs;

    /// <summary>Every lab host a cluster of these clients needs: PostgreSQL, the control host and the nodes.</summary>
    public static IReadOnlyList<string> Hosts(IReadOnlyList<string> clientIds) =>
        [LabPostgres.Host, Control, .. LabTopology.Nodes(clientIds).Select(n => n.Name)];

    /// <summary>The names each host also answers to (its pod's name under its headless Service).</summary>
    public static IReadOnlyDictionary<string, string[]> Aliases(IReadOnlyList<string> clientIds) =>
        LabTopology.Nodes(clientIds).ToDictionary(n => n.Name, n => new[] { LabTopology.Hostname(n.Name, LabTopology.Service(n.Kind)) });

    /// <param name="directory">This trial's directory: nodes/NAME (each node's state), server-blobs, follower.</param>
    /// <param name="nodesPostgres">The connection string the nodes use (the lab's PostgreSQL by its lab hostname).</param>
    /// <param name="clientData">The directory holding ID/train.jsonl for every client (each client node sees it as its data volume).</param>
    /// <param name="extraArgs">Appended to every node's command line (chaos trials: their configuration files).</param>
    public LabLayout(LabNetwork network, string directory, string nodesPostgres, string jobFile, string clientData, IReadOnlyList<string> clientIds, string[]? extraArgs = null)
    {
        this.extraArgs = extraArgs ?? [];
        this.network = network;
        this.directory = Path.GetFullPath(directory);
        this.nodesPostgres = nodesPostgres;
        this.jobFile = Path.GetFullPath(jobFile);
        this.clientData = Path.GetFullPath(clientData);
        nodes = LabTopology.Nodes(clientIds).ToDictionary(n => n.Name);
        foreach (var name in nodes.Keys) Directory.CreateDirectory(Path.Combine(this.directory, "nodes", name));
        Directory.CreateDirectory(ServerBlobs);
        using var certificates = RunCertificates.Create(Path.Combine(this.directory, "tls"));
        var all = nodes.Values.ToArray();
        foreach (var group in all.GroupBy(LabTopology.Workload))
            certificates.Issue(group.Key, LabTopology.CertificateNames(group.First(), all), []);
        followerTls = certificates.Issue(Control, [Control], [IPAddress.Parse(network.Hosts[Control].Address)]);
    }

    readonly NodeCredentials followerTls;

    /// <summary>The directory holding a workload's tls.crt, tls.key and ca.crt (its Secret in Kubernetes).</summary>
    string TlsFiles(LabNode node) => Path.Combine(directory, "tls", LabTopology.Workload(node));

    public string ServerBlobs => Path.Combine(directory, "server-blobs");
    public override IReadOnlyList<string> ServerNodes => nodes.Values.Where(n => n.Kind == LabNodeKind.Server).Select(n => n.Name).ToArray();
    public override string Aggregator => nodes.Values.Single(n => n.Kind == LabNodeKind.Aggregator).Name;
    public override IReadOnlyList<string> ClientNodes => nodes.Values.Where(n => n.Kind == LabNodeKind.Client).Select(n => n.Name).ToArray();
    public override IReadOnlyList<string> Nodes => [.. nodes.Keys];
    public override string FollowerReport => Path.Combine(directory, Follower);
    public override bool SameAddressRestart => true;

    /// <summary>The environment a node gets: the topology's, with the downward-API placeholders filled in the way
    /// Kubernetes fills them for the pod, and the lab's database.</summary>
    public IReadOnlyDictionary<string, string> Environment(string name) =>
        nodes[name].Environment.ToDictionary(e => e.Key, e => e.Key == NodeEnvironment.Postgres ? nodesPostgres
            : e.Value.Replace(LabTopology.PodName, name).Replace(LabTopology.PodIp, network.Hosts[name].Address));

    public override ProcessStartInfo StartInfo(string name)
    {
        if (name == Follower)
        {
            var follower = FollowerReport;
            var info = NodeProcess.StartInfo(["submit", jobFile, "--watch", "--report-dir", follower, "--blobs", ServerBlobs, "--out", follower,
                "--timeout", ClusterLayout.FollowerJoinTimeoutSeconds, .. LabTopology.Seeds.SelectMany(s => new[] { "--seed-node", s }), .. extraArgs]);
            info.Environment[NodeEnvironment.Hostname] = network.Hosts[Control].Address;
            info.Environment[NodeEnvironment.Postgres] = nodesPostgres;
            foreach (var (k, v) in followerTls.Environment) info.Environment[k] = v;
            return network.Wrap(Control, info, []);
        }
        var node = nodes[name];
        var inner = NodeProcess.StartInfo([.. node.Args, .. extraArgs]);
        foreach (var (k, v) in Environment(name)) inner.Environment[k] = v;
        List<(string, string)> mounts = [(Path.Combine(directory, "nodes", name), LabTopology.Root), (TlsFiles(node), LabTopology.TlsDirectory)];
        if (node.Kind == LabNodeKind.Server) mounts.Add((ServerBlobs, LabTopology.BlobDirectory));
        if (node.Kind == LabNodeKind.Client) mounts.Add((clientData, LabTopology.DataDirectory));
        return network.Wrap(name, inner, mounts);
    }

    /// <summary>A node on the control host that tries to join as an aggregator with a certificate that names its host
    /// but was issued by another CA (made here for the purpose): every node must refuse it.</summary>
    public ProcessStartInfo Intruder()
    {
        using var foreign = RunCertificates.Create(Path.Combine(directory, "intruder-tls"));
        var credentials = foreign.Issue(Control, [Control], [IPAddress.Parse(network.Hosts[Control].Address)]);
        var info = NodeProcess.StartInfo(["node", "--role", "aggregator", "--out", Path.Combine(directory, "intruder"), "--port", $"{LabTopology.RemotingPort}",
            .. LabTopology.Seeds.SelectMany(s => new[] { "--seed-node", s }), .. extraArgs]);
        info.Environment[NodeEnvironment.Hostname] = network.Hosts[Control].Address;
        info.Environment[NodeEnvironment.Postgres] = nodesPostgres;
        foreach (var (k, v) in credentials.Environment) info.Environment[k] = v;
        return network.Wrap(Control, info, []);
    }

    public override string? NodeAt(string address)
    {
        if (!Uri.TryCreate(address.Trim(), UriKind.Absolute, out var uri)) return null;
        var host = uri.Host;
        return network.Hosts.Values.FirstOrDefault(h => h.Address == host || h.Name == host
            || nodes.TryGetValue(h.Name, out var node) && LabTopology.Hostname(node.Name, LabTopology.Service(node.Kind)) == host)?.Name;
    }
}

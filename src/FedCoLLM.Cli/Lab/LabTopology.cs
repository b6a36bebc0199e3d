using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Security;

namespace FedCoLLM.Cli.Lab;

/// <summary>What a node is in a deployment: a server-role member (a seed), the aggregator, or a client silo.</summary>
public enum LabNodeKind { Server, Aggregator, Client }

/// <summary>
/// One node of a deployment as its container sees it: a name (the Kubernetes pod name), its command line and its
/// environment. <c>$(POD_NAME)</c> and <c>$(POD_IP)</c> in a value stand for what Kubernetes' downward API gives the pod;
/// the lab fills them in with the namespace's hostname and address. Every node is a StatefulSet pod reached at its
/// stable DNS name, which its TLS certificate names. Values of <see cref="SecretEnvironment"/> come from
/// a Secret in Kubernetes and from the lab's own generated database in the lab.
/// </summary>
public sealed record LabNode(string Name, LabNodeKind Kind, IReadOnlyList<string> Args, IReadOnlyDictionary<string, string> Environment, string? ClientId = null);

/// <summary>
/// The one description of a deployed cluster that both the multi-host lab (Lab/) and the Kubernetes manifests
/// (deploy/k8s/) follow; a test renders the manifests and checks that every container gets exactly these arguments and
/// this environment. Every node listens on the same ports, like pods; a node's state lives under <see cref="Root"/>,
/// which in Kubernetes is a volume and in the lab a directory bind-mounted there.
/// </summary>
public static class LabTopology
{
    public const int RemotingPort = 4053;
    /// <summary>The blob bulk channel's port (src/FedCoLLM.Actors/Blobs/BulkChannel.cs), the same on every node.</summary>
    public const int BlobPort = 4054;
    public const int HttpPort = 8080;
    public const int ServerReplicas = 3;
    /// <summary>The headless Service of the server StatefulSet: its pods are SERVER-N.fedcollm-server.</summary>
    public const string ServerService = "fedcollm-server";
    public const string ServerStatefulSet = "server";
    /// <summary>The aggregator is a StatefulSet of one behind its own headless Service, so that it has a stable DNS name
    /// for its certificate to name (mutual TLS checks that a peer's certificate names the peer).</summary>
    public const string AggregatorStatefulSet = "aggregator";
    public const string AggregatorService = "fedcollm-aggregator";
    /// <summary>The governing headless Service of the client silo StatefulSets: a silo is SILO-0.fedcollm-clients.</summary>
    public const string ClientService = "fedcollm-clients";
    /// <summary>Where a node keeps its state (node/), the servers' shared blob volume (blobs/) and a client's private data (data/).</summary>
    public const string Root = "/var/lib/fedcollm";
    public const string NodeDirectory = Root + "/node";
    public const string BlobDirectory = Root + "/blobs";
    public const string DataDirectory = Root + "/data";
    public const string PodName = "$(POD_NAME)";
    public const string PodIp = "$(POD_IP)";
    public static readonly string[] SecretEnvironment = [NodeEnvironment.Postgres];
    /// <summary>Where a node's TLS files are mounted (a Secret in Kubernetes, the node's own certificate directory in the
    /// lab), named as `fedcollm certs issue` writes them.</summary>
    public const string TlsDirectory = "/etc/fedcollm/tls";

    /// <summary>The Secret holding a workload's TLS files (tls.crt, tls.key, ca.crt): fedcollm-tls-WORKLOAD. The three
    /// servers share one (a StatefulSet's pods share their template), whose certificate names all three.</summary>
    public static string TlsSecret(LabNode node) => $"fedcollm-tls-{Workload(node)}";

    /// <summary>The StatefulSet a node is a pod of.</summary>
    public static string Workload(LabNode node) => node.Kind switch
    {
        LabNodeKind.Server => ServerStatefulSet,
        LabNodeKind.Aggregator => AggregatorStatefulSet,
        _ => ClientStatefulSet(node.ClientId!),
    };

    /// <summary>The headless Service under which a node's pod has its DNS name.</summary>
    public static string Service(LabNodeKind kind) => kind switch
    {
        LabNodeKind.Server => ServerService,
        LabNodeKind.Aggregator => AggregatorService,
        _ => ClientService,
    };

    /// <summary>The host names a node's certificate must name: its pod's DNS name (for the servers, every server pod's,
    /// since they share one certificate).</summary>
    public static IReadOnlyList<string> CertificateNames(LabNode node, IReadOnlyList<LabNode> all) =>
        node.Kind == LabNodeKind.Server
            ? all.Where(n => n.Kind == LabNodeKind.Server).Select(n => Hostname(n.Name, ServerService)).ToArray()
            : [Hostname(node.Name, Service(node.Kind))];

    public static string ServerPod(int i) => $"{ServerStatefulSet}-{i}";
    public static string ServerHostname(string pod) => Hostname(pod, ServerService);
    /// <summary>A StatefulSet pod's stable DNS name under its governing headless Service.</summary>
    public static string Hostname(string pod, string service) => $"{pod}.{service}";

    /// <summary>Akka seed addresses: the server StatefulSet's stable DNS names.</summary>
    public static IReadOnlyList<string> Seeds =>
        Enumerable.Range(0, ServerReplicas).Select(i => $"akka.ssl.tcp://fedcollm@{ServerHostname(ServerPod(i))}:{RemotingPort}").ToArray();

    /// <summary>A client silo's StatefulSet name: client-ID with the id made a DNS label (noun.animal → client-noun-animal).</summary>
    public static string ClientStatefulSet(string clientId) =>
        "client-" + new string(clientId.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');

    public static IReadOnlyList<LabNode> Nodes(IReadOnlyList<string> clientIds)
    {
        var nodes = new List<LabNode>();
        for (var i = 0; i < ServerReplicas; i++)
            nodes.Add(new LabNode(ServerPod(i), LabNodeKind.Server,
                ["node", "--role", "server", "--out", NodeDirectory, "--blobs", BlobDirectory],
                Environment(ServerHostname(PodName))));
        nodes.Add(new LabNode(AggregatorStatefulSet + "-0", LabNodeKind.Aggregator,
            ["node", "--role", "aggregator", "--out", NodeDirectory],
            Environment(Hostname(PodName, AggregatorService))));
        foreach (var id in clientIds)
            nodes.Add(new LabNode(ClientStatefulSet(id) + "-0", LabNodeKind.Client,
                ["node", "--role", "client", "--client-id", id, "--data-dir", DataDirectory, "--out", NodeDirectory],
                Environment(Hostname(PodName, ClientService)), id));
        return nodes;
    }

    static IReadOnlyDictionary<string, string> Environment(string publicHostname) => new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        [NodeEnvironment.Hostname] = "0.0.0.0",
        [NodeEnvironment.PublicHostname] = publicHostname,
        [NodeEnvironment.Port] = $"{RemotingPort}",
        [NodeEnvironment.BlobPort] = $"{BlobPort}",
        [NodeEnvironment.HttpPort] = $"{HttpPort}",
        [NodeEnvironment.Seeds] = string.Join(",", Seeds),
        [NodeEnvironment.LogFormat] = "json",
        [NodeEnvironment.Postgres] = "(secret)",
        [NodeEnvironment.TlsCertificate] = $"{TlsDirectory}/{CertificateAuthority.NodeCertificateFile}",
        [NodeEnvironment.TlsKey] = $"{TlsDirectory}/{CertificateAuthority.NodeKeyFile}",
        [NodeEnvironment.TlsCa] = $"{TlsDirectory}/{CertificateAuthority.CertificateFile}",
    };
}

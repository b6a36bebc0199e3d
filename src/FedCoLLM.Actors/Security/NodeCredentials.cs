using System.Net;
using FedCoLLM.Actors.Hosting;

namespace FedCoLLM.Actors.Security;

/// <summary>A node's TLS files, as <c>fedcollm certs issue</c> writes them, and the variables that point a node at them.</summary>
public sealed record NodeCredentials(string Certificate, string Key, string Ca)
{
    public static NodeCredentials In(string directory) => new(
        Path.Combine(directory, CertificateAuthority.NodeCertificateFile),
        Path.Combine(directory, CertificateAuthority.NodeKeyFile),
        Path.Combine(directory, CertificateAuthority.CertificateFile));

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        [NodeEnvironment.TlsCertificate] = Certificate,
        [NodeEnvironment.TlsKey] = Key,
        [NodeEnvironment.TlsCa] = Ca,
    };

    /// <summary>The same as HOCON (for in-process systems).</summary>
    public string Hocon => $"fedcollm.tls {{ certificate = \"{Certificate}\", key = \"{Key}\", ca = \"{Ca}\" }}";
}

/// <summary>
/// A throwaway CA for one harness run (the chaos cluster, the lab, the multi-process tests): made fresh in the run's
/// directory, so no key is ever committed or shared between runs, and every node gets a certificate of its own.
/// </summary>
public sealed class RunCertificates : IDisposable
{
    readonly CertificateAuthority ca;
    readonly string directory;

    RunCertificates(CertificateAuthority ca, string directory)
    {
        this.ca = ca;
        this.directory = directory;
    }

    /// <summary>A new CA under DIRECTORY/ca; nodes' files go to DIRECTORY/NAME.</summary>
    public static RunCertificates Create(string directory) =>
        new(CertificateAuthority.Create(Path.Combine(directory, "ca"), "FedCoLLM test CA " + Guid.NewGuid().ToString("N")[..8]), Path.GetFullPath(directory));

    public NodeCredentials Issue(string name, IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses)
    {
        var dir = Path.Combine(directory, name);
        ca.IssueTo(dir, new NodeCertificateRequest(name, dnsNames.ToArray(), addresses.ToArray())).Dispose();
        return NodeCredentials.In(dir);
    }

    /// <summary>A certificate for a node on this host's loopback (127.0.0.1, localhost).</summary>
    public NodeCredentials Loopback(string name) => Issue(name, ["localhost"], [IPAddress.Loopback]);

    public void Dispose() => ca.Dispose();
}

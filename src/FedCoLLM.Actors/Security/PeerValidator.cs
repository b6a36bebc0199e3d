using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace FedCoLLM.Actors.Security;

/// <summary>
/// Decides whether a remoting peer may talk to this node, on every TLS handshake, both ways (Akka.Remote runs it on the
/// client certificate of an inbound connection and on the server certificate of an outbound one). A peer is accepted
/// only when its certificate
/// <list type="bullet">
/// <item>chains to our CA alone (CustomRootTrust: the OS trust store, with its public roots, is not consulted, so a
/// certificate from any other CA is refused), is within its validity period, and is meant for both TLS roles;</item>
/// <item>names the peer: outbound, the host we dialled (the SAN, checked by SslStream); inbound, the address the
/// connection comes from, as an IP in the SAN or as the address a DNS name in the SAN resolves to. Akka gives an
/// inbound validator only the socket address, not the peer's Akka address, so the source address is what binds the
/// certificate to a host there.</item>
/// </list>
/// Every refusal is logged at warning level with the peer, the certificate's subject and the reason.
/// </summary>
public static class PeerValidator
{
    static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");
    static readonly TimeSpan DnsTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The logged prefix of every refusal (tests and operators search for it).</summary>
    public const string Refused = "TLS peer refused";

    public static CertificateValidationCallback TrustOnly(X509Certificate2 ca, Func<string, IPAddress[]>? resolve = null) =>
        (certificate, chain, peer, errors, log) =>
        {
            var reason = Check(ca, certificate, chain, peer, errors, resolve ?? Resolve);
            if (reason is null) return true;
            log.Warning("{0} {1} (certificate {2}): {3}", Refused, peer, certificate?.Subject ?? "none", reason);
            return false;
        };

    /// <summary>Null when the peer is accepted; else why not.</summary>
    public static string? Check(X509Certificate2 ca, X509Certificate2? certificate, X509Chain? presented, string peer, SslPolicyErrors errors, Func<string, IPAddress[]> resolve)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            return "it presented no certificate (mutual TLS requires one)";
        if (ChainProblem(ca, certificate, presented) is { } chainError) return chainError;
        var outbound = peer.Contains("://", StringComparison.Ordinal);
        if (outbound)
            return errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)
                ? $"the certificate does not name the host dialled (it names {Names(certificate)})"
                : null;
        return SourceError(certificate, peer, resolve);
    }

    /// <summary>Null when <paramref name="certificate"/> chains to <paramref name="ca"/> alone, is valid now and is meant for both TLS roles.</summary>
    public static string? ChainProblem(X509Certificate2 ca, X509Certificate2 certificate, X509Chain? presented = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        // A private CA publishes no revocation list; a compromised node's certificate is retired by replacing the CA.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ServerAuth);
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuth);
        if (presented is not null)
            foreach (var element in presented.ChainElements)
                if (element.Certificate.Thumbprint != certificate.Thumbprint) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        if (chain.Build(certificate)) return null;
        var statuses = chain.ChainStatus.Select(s => $"{s.Status}: {s.StatusInformation.Trim()}").Distinct();
        return $"not valid under our CA ({string.Join("; ", statuses)}; issuer {certificate.Issuer}, valid {certificate.NotBefore:u} to {certificate.NotAfter:u})";
    }

    static string? SourceError(X509Certificate2 certificate, string peer, Func<string, IPAddress[]> resolve)
    {
        if (Source(peer) is not { } source) return $"cannot read the peer address \"{peer}\"";
        var (dns, ips) = SubjectAlternativeNames(certificate);
        if (ips.Any(ip => Normal(ip).Equals(source))) return null;
        foreach (var name in dns)
        {
            try
            {
                if (resolve(name).Select(Normal).Contains(source)) return null;
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or TimeoutException or ArgumentException) { }
        }
        return $"the connection comes from {source}, which the certificate does not name (it names {Names(certificate)})";
    }

    /// <summary>The IP of an inbound peer as Akka gives it ("[::ffff:127.0.0.1]:42908").</summary>
    public static IPAddress? Source(string peer) =>
        IPEndPoint.TryParse(peer.Trim(), out var endpoint) ? Normal(endpoint.Address) : null;

    static IPAddress Normal(IPAddress ip) => ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;

    internal static IPAddress[] Resolve(string name)
    {
        var lookup = Dns.GetHostAddressesAsync(name);
        return lookup.Wait(DnsTimeout) ? lookup.Result : throw new TimeoutException($"resolving {name} took over {DnsTimeout.TotalSeconds:F0} s");
    }

    public static (IReadOnlyList<string> Dns, IReadOnlyList<IPAddress> Ips) SubjectAlternativeNames(X509Certificate2 certificate)
    {
        var dns = new List<string>();
        var ips = new List<IPAddress>();
        foreach (var extension in certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            dns.AddRange(extension.EnumerateDnsNames());
            ips.AddRange(extension.EnumerateIPAddresses());
        }
        return (dns, ips);
    }

    public static string Names(X509Certificate2 certificate)
    {
        var (dns, ips) = SubjectAlternativeNames(certificate);
        var all = dns.Concat(ips.Select(i => i.ToString())).ToArray();
        return all.Length == 0 ? "no host" : string.Join(", ", all);
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using FedCoLLM.Actors.Hosting;

namespace FedCoLLM.Actors.Security;

/// <summary>
/// Mutual TLS for Akka.Remote, from <c>akka.remote.dot-netty.tcp.enable-ssl</c> and the <c>fedcollm.tls</c> block
/// (hocon/cluster.conf; FEDCOLLM_TLS_CERTIFICATE, FEDCOLLM_TLS_KEY and FEDCOLLM_TLS_CA set it,
/// <see cref="NodeEnvironment"/>). The node's certificate and key and our CA are PEM files made by <c>fedcollm certs</c>
/// (<see cref="CertificateAuthority"/>). Akka's own check trusts the OS store only, so the transport is given a
/// <see cref="DotNettySslSetup"/> whose validator trusts our CA alone (<see cref="PeerValidator"/>), with mutual
/// authentication required and validation never suppressed (either would let a node with any certificate join).
/// The files are checked at start-up, where a mistake can still be named: Akka starts a node with an expired
/// certificate and only its peers notice.
/// </summary>
public static class RemotingTls
{
    public const string EnableSsl = "akka.remote.dot-netty.tcp.enable-ssl";
    public const string CertificateKey = "fedcollm.tls.certificate";
    public const string PrivateKeyKey = "fedcollm.tls.key";
    public const string CaKey = "fedcollm.tls.ca";
    /// <summary>The explicit, loudly logged opt-out of <see cref="RequirePlaintextOptIn"/>; in no shipped file.</summary>
    public const string AllowPlaintextKey = "fedcollm.tls.insecure-allow-plaintext";

    const string Fix = "Make them with `fedcollm certs init --out CA_DIR` (once per cluster) and `fedcollm certs issue --ca CA_DIR --name NODE --dns HOST --out DIR` " +
        "(docs/deploy.md, \"Certificates\"), then set FEDCOLLM_TLS_CERTIFICATE=DIR/tls.crt, FEDCOLLM_TLS_KEY=DIR/tls.key and FEDCOLLM_TLS_CA=DIR/ca.crt.";

    /// <summary>Whether the configuration turns remoting TLS on (a remote or cluster provider with enable-ssl).</summary>
    public static bool Enabled(Config config) => IsRemote(config) && config.GetBoolean(EnableSsl, false);

    /// <summary>The setup that makes remoting mutual TLS under our CA; null when TLS is off. Throws, naming the file and the
    /// fix, when a file is missing, unreadable, expired or does not fit this node.</summary>
    public static DotNettySslSetup? Setup(Config config)
    {
        if (Credentials(config) is not var (certificate, ca)) return null;
        return new DotNettySslSetup(certificate, suppressValidation: false, requireMutualAuthentication: true, validateCertificateHostname: false,
            customValidator: PeerValidator.TrustOnly(ca));
    }

    /// <summary>This node's certificate (with its key) and our CA, checked as <see cref="Setup"/> describes; null when TLS is
    /// off. The blob bulk channel (src/FedCoLLM.Actors/Blobs/BulkChannel.cs) authenticates with the same pair.</summary>
    public static (X509Certificate2 Certificate, X509Certificate2 Ca)? Credentials(Config config)
    {
        if (!Enabled(config)) return null;
        var certificate = Load(config);
        var ca = LoadCa(config);
        var certificatePath = config.GetString(CertificateKey);
        if (PeerValidator.ChainProblem(ca, certificate) is { } chainProblem)
            throw new InvalidOperationException($"{certificatePath}: {chainProblem}. Every node's certificate must be issued by the CA in {config.GetString(CaKey)}. {Fix}");
        if (PublicHost(config) is { } host && !Names(certificate, host))
            throw new InvalidOperationException($"{certificatePath} names {PeerValidator.Names(certificate)}, but this node is reached at {host} " +
                "(akka.remote.dot-netty.tcp.public-hostname, else hostname; FEDCOLLM_PUBLIC_HOSTNAME, FEDCOLLM_HOSTNAME): peers would refuse it. " +
                $"Issue it with that name: `fedcollm certs issue --ca CA_DIR --name NODE {(IPAddress.TryParse(host, out _) ? "--ip" : "--dns")} {host} --out DIR`.");
        return (certificate, ca);
    }

    /// <summary>Plaintext remoting is allowed on loopback only (the single-process <c>fedcollm run</c>, whose one node
    /// talks to itself and to the job verbs on the same host). Anywhere else it lets anyone who reaches the port join and
    /// send any message, so it needs <see cref="AllowPlaintextKey"/> = on, which is then logged as a warning.</summary>
    /// <returns>The warning to log, or null.</returns>
    public static string? RequirePlaintextOptIn(Config config)
    {
        if (!IsRemote(config) || Enabled(config)) return null;
        var bind = config.GetString("akka.remote.dot-netty.tcp.hostname", "");
        if (IPAddress.TryParse(bind, out var ip) && IPAddress.IsLoopback(ip) || bind == "localhost") return null;
        if (!config.GetBoolean(AllowPlaintextKey, false))
            throw new InvalidOperationException($"Remoting would listen in plaintext on \"{bind}\" ({EnableSsl} = off): anyone who reaches that port could join the cluster. " +
                $"Use hocon/cluster.conf (mutual TLS) with node certificates ({Fix}), or, only on a network you fully trust, set {AllowPlaintextKey} = on in your own configuration file.");
        return $"INSECURE: remoting listens in plaintext on \"{bind}\" ({AllowPlaintextKey} = on): any host that reaches this port can join the cluster and send any message to any actor.";
    }

    /// <summary>Whether the node has remoting at all (a remote or cluster provider).</summary>
    public static bool IsRemote(Config config) => config.GetString("akka.actor.provider", "local") is var p && !p.Equals("local", StringComparison.OrdinalIgnoreCase) && !p.Contains("LocalActorRefProvider", StringComparison.Ordinal);

    static string Required(Config config, string key, string variable)
    {
        var path = config.GetString(key, "");
        if (string.IsNullOrWhiteSpace(path))
            throw new InvalidOperationException($"Remoting TLS is on ({EnableSsl}, hocon/cluster.conf) but {key} is not set ({variable}): every node needs its certificate, its key and the cluster's CA. {Fix}");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} ({key}, {variable}) not found. {Fix}", path);
        return path;
    }

    static X509Certificate2 Load(Config config)
    {
        var certificatePath = Required(config, CertificateKey, NodeEnvironment.TlsCertificate);
        var keyPath = Required(config, PrivateKeyKey, NodeEnvironment.TlsKey);
        X509Certificate2 certificate;
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            // An ephemeral PEM key is exported to PKCS#12 and re-imported, the form SslStream needs for a server certificate.
            certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or UnauthorizedAccessException or IOException)
        {
            throw new InvalidOperationException($"{certificatePath} with {keyPath}: not a PEM certificate and its private key ({e.Message}). {Fix}", e);
        }
        var now = DateTime.Now;
        if (certificate.NotAfter < now)
            throw new InvalidOperationException($"{certificatePath} expired on {certificate.NotAfter.ToUniversalTime():u}: peers refuse an expired certificate. Issue a new one: {Fix}");
        if (certificate.NotBefore > now)
            throw new InvalidOperationException($"{certificatePath} is not valid before {certificate.NotBefore.ToUniversalTime():u} (is this host's clock right?). {Fix}");
        return certificate;
    }

    static X509Certificate2 LoadCa(Config config)
    {
        var caPath = Required(config, CaKey, NodeEnvironment.TlsCa);
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(caPath);
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"{caPath} ({CaKey}, {NodeEnvironment.TlsCa}): not a CA certificate ({e.Message}); give the ca.crt of `fedcollm certs init`.", e);
        }
    }

    /// <summary>The host peers dial this node at (public-hostname, else hostname); null for a wildcard bind with no public
    /// name. Also what <see cref="Hosting.SeedJoinRetry"/> compares with the first seed.</summary>
    public static string? PublicHost(Config config)
    {
        var host = config.GetString("akka.remote.dot-netty.tcp.public-hostname", "");
        if (string.IsNullOrWhiteSpace(host)) host = config.GetString("akka.remote.dot-netty.tcp.hostname", "");
        return string.IsNullOrWhiteSpace(host) || host is "0.0.0.0" or "::" ? null : host;
    }

    static bool Names(X509Certificate2 certificate, string host)
    {
        var (dns, ips) = PeerValidator.SubjectAlternativeNames(certificate);
        return IPAddress.TryParse(host, out var ip)
            ? ips.Any(i => i.Equals(ip))
            : dns.Any(d => string.Equals(d.TrimEnd('.'), host.TrimEnd('.'), StringComparison.OrdinalIgnoreCase));
    }
}

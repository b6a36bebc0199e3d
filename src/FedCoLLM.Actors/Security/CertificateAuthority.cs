using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FedCoLLM.Actors.Security;

/// <summary>What a node certificate says: its name (the subject CN) and every host name and address it may be reached
/// at (the SAN). A node's Akka address must use one of them: peers dialling it check it (<see cref="PeerValidator"/>).</summary>
public sealed record NodeCertificateRequest(string Name, IReadOnlyList<string> DnsNames, IReadOnlyList<IPAddress> Addresses)
{
    /// <summary>How long the certificate is valid from <see cref="NotBefore"/>.</summary>
    public TimeSpan Validity { get; init; } = TimeSpan.FromDays(365);
    /// <summary>Default: a minute ago (clock skew between hosts). Tests set it in the past to make an expired certificate.</summary>
    public DateTimeOffset? NotBefore { get; init; }
}

/// <summary>
/// The cluster's private certificate authority (<c>fedcollm certs init</c>): it signs every node's certificate
/// (<c>fedcollm certs issue</c>), and nodes trust it alone (<see cref="PeerValidator"/>), not the OS trust store.
/// Made with System.Security.Cryptography's CertificateRequest; no external tool. Files (PEM): ca.crt (public, given to
/// every node) and ca.key (the signing key, 0600, which never leaves the operator's machine).
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    public const string CertificateFile = "ca.crt";
    public const string KeyFile = "ca.key";
    /// <summary>The node files <see cref="Issue"/> writes: the names of a Kubernetes TLS Secret's keys, so a Secret made
    /// from the directory mounts as these files.</summary>
    public const string NodeCertificateFile = "tls.crt";
    public const string NodeKeyFile = "tls.key";

    static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1", "serverAuth");
    static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2", "clientAuth");

    public X509Certificate2 Certificate { get; }

    CertificateAuthority(X509Certificate2 certificate) => Certificate = certificate;

    /// <summary>A new CA (ECDSA P-256, self-signed) written to <paramref name="directory"/>; refuses to overwrite one.</summary>
    public static CertificateAuthority Create(string directory, string name = "FedCoLLM cluster CA", TimeSpan? validity = null)
    {
        Directory.CreateDirectory(directory);
        var certPath = Path.Combine(directory, CertificateFile);
        var keyPath = Path.Combine(directory, KeyFile);
        if (File.Exists(certPath) || File.Exists(keyPath))
            throw new IOException($"{directory} already holds a CA ({CertificateFile} or {KeyFile}); issuing from a new CA would lock out every node the old one certified. Use another directory, or delete the old CA on purpose.");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={Escape(name)}, O=FedCoLLM"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        // Back-dated a day: node certificates must lie within it, and one may be back-dated for clock skew (or, in
        // tests, made already expired).
        var certificate = request.CreateSelfSigned(now.AddDays(-1), now + (validity ?? TimeSpan.FromDays(3650)));
        PemFiles.WritePublic(certPath, certificate.ExportCertificatePem());
        PemFiles.WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem());
        return new CertificateAuthority(certificate);
    }

    /// <summary>The CA of <paramref name="directory"/> (ca.crt and ca.key), to issue node certificates with.</summary>
    public static CertificateAuthority Load(string directory)
    {
        var certPath = Path.Combine(directory, CertificateFile);
        var keyPath = Path.Combine(directory, KeyFile);
        foreach (var path in new[] { certPath, keyPath })
            if (!File.Exists(path))
                throw new FileNotFoundException($"{path} not found: --ca must be a directory made by `fedcollm certs init --out DIR`.", path);
        try
        {
            return new CertificateAuthority(X509Certificate2.CreateFromPemFile(certPath, keyPath));
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"{directory}: {CertificateFile} and {KeyFile} do not form a CA certificate with its key ({e.Message}).", e);
        }
    }

    /// <summary>Signs a node certificate for <paramref name="request"/> (serverAuth and clientAuth: every node is a TLS
    /// server for inbound connections and a TLS client for outbound ones).</summary>
    public X509Certificate2 Issue(NodeCertificateRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Name)) throw new ArgumentException("A node certificate needs a name (--name).", nameof(request));
        if (request.DnsNames.Count == 0 && request.Addresses.Count == 0)
            throw new ArgumentException($"Node certificate {request.Name}: give at least one host name (--dns) or address (--ip) the node is reached at; peers refuse a node whose certificate does not name its address.", nameof(request));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest(new X500DistinguishedName($"CN={Escape(request.Name)}, O=FedCoLLM"), key, HashAlgorithmName.SHA256);
        csr.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        csr.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        csr.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth, ClientAuth], critical: false));
        var san = new SubjectAlternativeNameBuilder();
        foreach (var dns in request.DnsNames) san.AddDnsName(dns);
        foreach (var ip in request.Addresses) san.AddIpAddress(ip);
        csr.CertificateExtensions.Add(san.Build());
        csr.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(csr.PublicKey, critical: false));
        csr.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var notBefore = request.NotBefore ?? DateTimeOffset.UtcNow.AddMinutes(-1);
        var notAfter = notBefore + request.Validity;
        // A certificate may not outlive its issuer (and Create refuses one that would).
        if (notAfter > Certificate.NotAfter) notAfter = Certificate.NotAfter;
        if (notBefore < Certificate.NotBefore)
            throw new ArgumentException($"Node certificate {request.Name}: not-before {notBefore:u} precedes the CA's own validity ({Certificate.NotBefore.ToUniversalTime():u}).", nameof(request));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var signed = csr.Create(Certificate, notBefore, notAfter, serial);
        return signed.CopyWithPrivateKey(key);
    }

    /// <summary>Issues a node certificate and writes tls.crt, tls.key (0600) and a copy of ca.crt to <paramref name="directory"/>.</summary>
    public X509Certificate2 IssueTo(string directory, NodeCertificateRequest request)
    {
        var certificate = Issue(request);
        Directory.CreateDirectory(directory);
        PemFiles.WritePublic(Path.Combine(directory, NodeCertificateFile), certificate.ExportCertificatePem());
        using (var key = certificate.GetECDsaPrivateKey()!)
            PemFiles.WritePrivate(Path.Combine(directory, NodeKeyFile), key.ExportPkcs8PrivateKeyPem());
        PemFiles.WritePublic(Path.Combine(directory, CertificateFile), Certificate.ExportCertificatePem());
        return certificate;
    }

    static string Escape(string value) => value.Replace("\\", "\\\\").Replace(",", "\\,").Replace("+", "\\+").Replace("=", "\\=").Replace("\"", "\\\"");

    public void Dispose() => Certificate.Dispose();
}

/// <summary>Writes PEM files: a private key is created 0600 (owner only) before a byte of it is written.</summary>
static class PemFiles
{
    public static void WritePublic(string path, string pem) => File.WriteAllText(path, pem + "\n");

    public static void WritePrivate(string path, string pem)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
            writer.Write(pem + "\n");
        // UnixCreateMode applies only to a new file; an existing one keeps its mode unless set here.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}

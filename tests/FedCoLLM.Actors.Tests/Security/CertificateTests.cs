using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Security;
using FedCoLLM.Actors.Tests.Blobs;

namespace FedCoLLM.Actors.Tests.Security;

/// <summary>
/// The certificates `fedcollm certs` makes and the start-up checks of a node's TLS files: a CA and a node certificate
/// with the SAN and both TLS roles, private keys 0600, and a clear error naming the file and the fix for every way a
/// node's files can be wrong. Also the validator's inbound rule on its own (a DNS name in the SAN that resolves to the
/// connecting address).
/// </summary>
public sealed class CertificateTests : IDisposable
{
    readonly TempDirectory dir = new();
    string Dir(string name) => Path.Combine(dir.Path, name);

    public void Dispose() => dir.Dispose();

    [Fact]
    public void A_CA_and_a_node_certificate_are_written_with_private_keys_readable_by_the_owner_only()
    {
        using (CertificateAuthority.Create(Dir("ca"))) { }
        using var ca = CertificateAuthority.Load(Dir("ca"));
        using var node = ca.IssueTo(Dir("server-0"), new NodeCertificateRequest("server-0", ["server-0.fedcollm-server"], [IPAddress.Parse("10.0.0.7")]));

        if (!OperatingSystem.IsWindows())
            foreach (var key in new[] { Path.Combine(Dir("ca"), "ca.key"), Path.Combine(Dir("server-0"), "tls.key") })
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        var files = NodeCredentials.In(Dir("server-0"));
        using var loaded = X509Certificate2.CreateFromPemFile(files.Certificate, files.Key);
        Assert.True(loaded.HasPrivateKey);
        Assert.Equal("CN=server-0, O=FedCoLLM", loaded.Subject);
        Assert.Equal("server-0.fedcollm-server, 10.0.0.7", PeerValidator.Names(loaded));
        var usages = loaded.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value);
        Assert.Equal(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], usages);
        using var caCert = X509CertificateLoader.LoadCertificateFromFile(files.Ca);
        Assert.Null(PeerValidator.ChainProblem(caCert, loaded));

        // A second CA in the same place would orphan every certificate of the first.
        Assert.Throws<IOException>(() => CertificateAuthority.Create(Dir("ca")));
    }

    [Fact]
    public void A_certificate_from_another_CA_fails_the_chain_check()
    {
        using var ours = CertificateAuthority.Create(Dir("ours"));
        using var theirs = CertificateAuthority.Create(Dir("theirs"));
        using var foreign = theirs.Issue(new NodeCertificateRequest("x", ["localhost"], []));
        Assert.Contains("not valid under our CA", PeerValidator.ChainProblem(ours.Certificate, foreign));
    }

    [Fact]
    public void An_inbound_peer_is_accepted_when_a_DNS_name_of_its_certificate_resolves_to_its_address()
    {
        using var ca = CertificateAuthority.Create(Dir("ca"));
        using var node = ca.Issue(new NodeCertificateRequest("aggregator-0", ["aggregator-0.fedcollm-aggregator"], []));
        IPAddress[] Resolve(string name) => name == "aggregator-0.fedcollm-aggregator" ? [IPAddress.Parse("10.1.2.3")] : [];
        Assert.Null(PeerValidator.Check(ca.Certificate, node, null, "[::ffff:10.1.2.3]:40001", SslPolicyErrors.None, Resolve));
        Assert.Contains("comes from 10.1.2.4", PeerValidator.Check(ca.Certificate, node, null, "[::ffff:10.1.2.4]:40001", SslPolicyErrors.None, Resolve));
        // Outbound, SslStream has matched the dialled host against the SAN already.
        Assert.Null(PeerValidator.Check(ca.Certificate, node, null, "ssl.tcp://fedcollm@aggregator-0.fedcollm-aggregator:4053", SslPolicyErrors.None, Resolve));
        Assert.Contains("does not name the host dialled", PeerValidator.Check(ca.Certificate, node, null, "ssl.tcp://fedcollm@10.9.9.9:4053", SslPolicyErrors.RemoteCertificateNameMismatch, Resolve));
        Assert.Contains("no certificate", PeerValidator.Check(ca.Certificate, null, null, "[::1]:5", SslPolicyErrors.RemoteCertificateNotAvailable, Resolve));
    }

    [Fact]
    public void The_environment_names_the_TLS_files_and_takes_TLS_seed_addresses()
    {
        var env = new Dictionary<string, string>
        {
            [NodeEnvironment.TlsCertificate] = "/etc/fedcollm/tls/tls.crt",
            [NodeEnvironment.TlsKey] = "/etc/fedcollm/tls/tls.key",
            [NodeEnvironment.TlsCa] = "/etc/fedcollm/tls/ca.crt",
            [NodeEnvironment.Seeds] = "akka.ssl.tcp://fedcollm@server-0.fedcollm-server:4053",
        };
        var config = NodeEnvironment.Overrides(n => env.GetValueOrDefault(n));
        Assert.Equal("/etc/fedcollm/tls/tls.crt", config.GetString(RemotingTls.CertificateKey));
        Assert.Equal("/etc/fedcollm/tls/tls.key", config.GetString(RemotingTls.PrivateKeyKey));
        Assert.Equal("/etc/fedcollm/tls/ca.crt", config.GetString(RemotingTls.CaKey));
        Assert.Equal(["akka.ssl.tcp://fedcollm@server-0.fedcollm-server:4053"], config.GetStringList("akka.cluster.seed-nodes"));
    }

    public static TheoryData<string, string[]> BadFiles => new()
    {
        { "none", ["fedcollm.tls.certificate is not set", "FEDCOLLM_TLS_CERTIFICATE", "fedcollm certs issue"] },
        { "missing", ["missing.crt", "not found", "fedcollm certs issue"] },
        { "unreadable", ["tls.crt", "not a PEM certificate", "fedcollm certs issue"] },
        { "expired", ["tls.crt expired on", "fedcollm certs issue"] },
        { "other-ca", ["tls.crt", "not valid under our CA", "must be issued by the CA"] },
        { "wrong-host", ["tls.crt names 10.9.9.9", "reached at 127.0.0.1", "--ip 127.0.0.1"] },
    };

    /// <summary>Akka would start such a node (it checks only that the key is there) and leave its peers to refuse it;
    /// the node refuses to start instead, naming the file and the fix.</summary>
    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_node_whose_TLS_files_are_wrong_does_not_start_and_says_which_file_and_how_to_fix_it(string defect, string[] expected)
    {
        using var ca = CertificateAuthority.Create(Dir("ca"));
        using var other = CertificateAuthority.Create(Dir("other"));
        var good = new NodeCertificateRequest("n", ["localhost"], [IPAddress.Loopback]);
        var files = Dir("node");
        string tls = "";
        switch (defect)
        {
            case "none":
                break;
            case "missing":
                ca.IssueTo(files, good).Dispose();
                tls = $"fedcollm.tls {{ certificate = \"{Path.Combine(files, "missing.crt")}\", key = \"{Path.Combine(files, "tls.key")}\", ca = \"{Path.Combine(files, "ca.crt")}\" }}";
                break;
            case "unreadable":
                ca.IssueTo(files, good).Dispose();
                File.WriteAllText(Path.Combine(files, "tls.crt"), "not a certificate");
                break;
            case "expired":
                ca.IssueTo(files, good with { NotBefore = DateTimeOffset.UtcNow.AddHours(-3), Validity = TimeSpan.FromHours(1) }).Dispose();
                break;
            case "other-ca":
                other.IssueTo(files, good).Dispose();
                File.Copy(Path.Combine(Dir("ca"), "ca.crt"), Path.Combine(files, "ca.crt"), overwrite: true);
                break;
            case "wrong-host":
                ca.IssueTo(files, new NodeCertificateRequest("n", [], [IPAddress.Parse("10.9.9.9")])).Dispose();
                break;
        }
        if (tls == "" && defect != "none") tls = NodeCredentials.In(files).Hocon;
        var config = ConfigurationFactory.ParseString(tls + "\nakka.remote.dot-netty.tcp.port = 0")
            .WithFallback(FederationConfig.Load(["cluster.conf", "serialization.conf"]));
        var error = Assert.ThrowsAny<Exception>(() => RemotingTls.Setup(config));
        foreach (var text in expected) Assert.Contains(text, error.Message);
    }

    [Fact]
    public void The_shipped_configuration_turns_mutual_TLS_on_and_never_weakens_it()
    {
        var hocon = Path.Combine(FederationConfig.DefaultDirectory);
        Assert.True(RemotingTls.Enabled(FederationConfig.Load(["cluster.conf"])));
        Assert.All(FederationConfig.Load(["cluster.conf"]).GetStringList("akka.cluster.seed-nodes"), s => Assert.StartsWith("akka.ssl.tcp://", s));
        foreach (var file in Directory.GetFiles(hocon, "*.conf"))
        {
            var text = File.ReadAllText(file);
            foreach (var weakening in new[] { "suppress-validation", "require-mutual-authentication", RemotingTls.AllowPlaintextKey.Split('.')[^1] })
                Assert.DoesNotMatch($@"(?m)^[^#]*{weakening}\s*[=:]", text);
        }
    }

    [Fact]
    public void Plaintext_remoting_is_refused_off_loopback_unless_the_operator_opts_out_and_allowed_on_loopback()
    {
        Config Plain(string host, bool optOut = false) => ConfigurationFactory.ParseString($"""
            akka.remote.dot-netty.tcp.hostname = "{host}"
            {(optOut ? RemotingTls.AllowPlaintextKey + " = on" : "")}
            """).WithFallback(FederationConfig.Load(["local.conf"]));
        Assert.Null(RemotingTls.RequirePlaintextOptIn(Plain("127.0.0.1")));
        var refused = Assert.Throws<InvalidOperationException>(() => RemotingTls.RequirePlaintextOptIn(Plain("0.0.0.0")));
        Assert.Contains("plaintext", refused.Message);
        Assert.Contains(RemotingTls.AllowPlaintextKey, refused.Message);
        Assert.StartsWith("INSECURE:", RemotingTls.RequirePlaintextOptIn(Plain("0.0.0.0", optOut: true)));
    }
}

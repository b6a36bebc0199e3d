using System.Collections.Concurrent;
using System.Net;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Security;
using FedCoLLM.Actors.Serialization;
using FedCoLLM.Actors.Tests.Blobs;

namespace FedCoLLM.Actors.Tests.Security;

/// <summary>
/// Mutual TLS on the real remoting transport, real TCP on loopback: a seed node started as <c>fedcollm node</c> starts
/// one (hocon/cluster.conf as shipped, <see cref="FederationHost.CreateSystem"/>, a certificate from our CA) and a
/// second ActorSystem that tries to join it. A node of ours joins. An intruder does not, whatever it tries: no
/// certificate at all (CVE-2025-61778, fixed in Akka.Remote 1.5.52; our pin is 1.5.73), a certificate from another CA,
/// an expired one, one naming another host, or plaintext. The intruders accept any server certificate themselves
/// (suppress-validation), so the refusal is the seed's own. Each refusal is logged by the seed, and its member list
/// stays as it was.
/// </summary>
public sealed class MutualTlsSpecs : IClassFixture<MutualTlsSpecs.Certificates>, IAsyncLifetime
{
    static readonly TimeSpan RefusalWithin = TimeSpan.FromSeconds(20);
    /// <summary>After the first refusal, how long the intruder keeps retrying while the member list is watched.</summary>
    static readonly TimeSpan Persistence = TimeSpan.FromSeconds(4);

    /// <summary>Our CA, another CA, and the certificates of the cases, made once for the class in a temp directory.</summary>
    public sealed class Certificates : IDisposable
    {
        readonly TempDirectory dir = new();
        public NodeCredentials Seed { get; }
        public NodeCredentials Member { get; }
        public NodeCredentials OtherCa { get; }
        public NodeCredentials Expired { get; }
        public NodeCredentials WrongHost { get; }

        public Certificates()
        {
            using var ours = CertificateAuthority.Create(Path.Combine(dir.Path, "ca"));
            using var other = CertificateAuthority.Create(Path.Combine(dir.Path, "other-ca"), "Somebody else's CA");
            NodeCredentials Issue(CertificateAuthority ca, string name, NodeCertificateRequest request)
            {
                ca.IssueTo(Path.Combine(dir.Path, name), request).Dispose();
                return NodeCredentials.In(Path.Combine(dir.Path, name));
            }
            NodeCertificateRequest Loopback(string name) => new(name, ["localhost"], [IPAddress.Loopback]);
            Seed = Issue(ours, "seed", Loopback("seed"));
            Member = Issue(ours, "member", Loopback("member"));
            // Same names and same loopback address as a member: only the issuer differs.
            OtherCa = Issue(other, "other-ca-node", Loopback("member"));
            Expired = Issue(ours, "expired", Loopback("expired") with { NotBefore = DateTimeOffset.UtcNow.AddHours(-20), Validity = TimeSpan.FromHours(10) });
            // Issued by our CA, but for a host elsewhere: it connects from 127.0.0.1, which its certificate does not name.
            WrongHost = Issue(ours, "wrong-host", new NodeCertificateRequest("wrong-host", [], [IPAddress.Parse("10.255.255.1")]));
        }

        public void Dispose() => dir.Dispose();
    }

    readonly Certificates certs;
    readonly List<ActorSystem> systems = [];

    public MutualTlsSpecs(Certificates certs) => this.certs = certs;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var system in systems) await system.Terminate().WaitAsync(TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task A_node_with_a_certificate_from_our_CA_joins_over_TLS()
    {
        var (seed, _) = await StartSeed(certs.Seed);
        var member = Ours(certs.Member);
        Assert.Equal("akka.ssl.tcp", Cluster.Get(member).SelfAddress.Protocol);
        await Cluster.Get(member).JoinAsync(Cluster.Get(seed).SelfAddress, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await Until(() => Cluster.Get(seed).State.Members.Count(m => m.Status == MemberStatus.Up) == 2, TimeSpan.FromSeconds(30), "the member is Up on the seed");
    }

    /// <summary>CVE-2025-61778: Akka.Remote before 1.5.52 accepted a TLS client that presented no certificate.</summary>
    [Fact]
    public Task A_node_without_a_client_certificate_is_refused() =>
        Refused(seedLog => Intruder(certs.Member, sendsCertificate: false), "did not provide a certificate", "presented no certificate");

    [Fact]
    public Task A_node_with_a_certificate_from_another_CA_is_refused() =>
        Refused(_ => Intruder(certs.OtherCa), PeerValidator.Refused, "not valid under our CA");

    [Fact]
    public Task A_node_with_an_expired_certificate_is_refused() =>
        Refused(_ => Intruder(certs.Expired), PeerValidator.Refused, "NotTimeValid");

    [Fact]
    public Task A_node_whose_certificate_names_another_host_is_refused() =>
        Refused(_ => Intruder(certs.WrongHost), PeerValidator.Refused, "which the certificate does not name");

    [Fact]
    public Task A_plaintext_node_is_refused() =>
        Refused(_ => Plaintext(), "not an SSL/TLS record");

    /// <summary>The other direction: a node of ours dialling a peer whose certificate (from our CA) names another
    /// host refuses it, so a stolen certificate cannot stand in for a seed at the seed's address.</summary>
    [Fact]
    public async Task A_seed_whose_certificate_names_another_host_is_refused_by_the_joining_node()
    {
        var impostor = Intruder(certs.WrongHost);
        Cluster.Get(impostor).Join(Cluster.Get(impostor).SelfAddress);
        var member = Ours(certs.Member);
        var log = Capture(member);
        Cluster.Get(member).Join(Cluster.Get(impostor).SelfAddress);
        await Until(() => log.Any(l => l.Contains("does not name the host dialled", StringComparison.Ordinal)), RefusalWithin, "the joining node logs the refusal");
        await Task.Delay(Persistence, TestContext.Current.CancellationToken);
        Assert.DoesNotContain(Cluster.Get(impostor).State.Members, m => m.Address == Cluster.Get(member).SelfAddress);
        Assert.Empty(Cluster.Get(member).State.Members);
    }

    /// <summary>Starts a seed of ours, lets <paramref name="intruder"/> try to join it, and checks that the seed logs a
    /// refusal containing every one of <paramref name="expected"/> (or, for alternatives, any) and keeps itself alone.</summary>
    async Task Refused(Func<ConcurrentQueue<string>, ActorSystem> intruder, params string[] expected)
    {
        var (seed, log) = await StartSeed(certs.Seed);
        var before = Members(seed);
        Assert.Equal($"{Cluster.Get(seed).SelfAddress} Up", before);
        var stranger = intruder(log);
        var seedAddress = Cluster.Get(seed).SelfAddress;
        Cluster.Get(stranger).Join(Cluster.Get(stranger).SelfAddress.Protocol == seedAddress.Protocol ? seedAddress : new Address(Cluster.Get(stranger).SelfAddress.Protocol, seedAddress.System, seedAddress.Host, seedAddress.Port));
        await Until(() => log.Any(l => expected.Any(e => l.Contains(e, StringComparison.Ordinal))), RefusalWithin,
            $"the seed logs a refusal ({string.Join(" or ", expected)})", log);
        await Task.Delay(Persistence, TestContext.Current.CancellationToken);
        Assert.Equal(before, Members(seed));
        Assert.DoesNotContain(Cluster.Get(stranger).State.Members, m => m.Address == seedAddress);
        Assert.NotEqual(MemberStatus.Up, Cluster.Get(stranger).SelfMember.Status);
    }

    static string Members(ActorSystem system) =>
        string.Join(", ", Cluster.Get(system).State.Members.Select(m => $"{m.Address} {m.Status}").Order(StringComparer.Ordinal));

    async Task<(ActorSystem System, ConcurrentQueue<string> Log)> StartSeed(NodeCredentials credentials)
    {
        var seed = Ours(credentials);
        var log = Capture(seed);
        await Cluster.Get(seed).JoinAsync(Cluster.Get(seed).SelfAddress, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await Until(() => Cluster.Get(seed).State.Members.Count(m => m.Status == MemberStatus.Up) == 1, TimeSpan.FromSeconds(10), "the seed sees itself Up");
        return (seed, log);
    }

    /// <summary>A node as <c>fedcollm node</c> makes one: hocon/cluster.conf as shipped, through FederationHost.</summary>
    ActorSystem Ours(NodeCredentials credentials)
    {
        var config = ConfigurationFactory.ParseString($"""
            akka.remote.dot-netty.tcp.port = 0
            akka.cluster.seed-nodes = []
            akka.cluster.roles = [server]
            akka.coordinated-shutdown.phases.cluster-leave.timeout = 2s
            {credentials.Hocon}
            """).WithFallback(FederationConfig.Load(["cluster.conf", "serialization.conf"]));
        return Track(FederationHost.CreateSystem(config));
    }

    /// <summary>An intruder's node: TLS with the given certificate, trusting any server it talks to, and presenting its
    /// certificate only when <paramref name="sendsCertificate"/> (else it is a TLS client without one).</summary>
    ActorSystem Intruder(NodeCredentials credentials, bool sendsCertificate = true)
    {
        using var pem = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(credentials.Certificate, credentials.Key);
        var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(pem.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12), null);
        var config = IntruderConfig(ssl: true);
        var setup = BootstrapSetup.Create().WithConfig(config).And(WireTypes.Setup())
            .And(new DotNettySslSetup(certificate, suppressValidation: true, requireMutualAuthentication: sendsCertificate));
        return Track(ActorSystem.Create(FederationHost.SystemName, setup));
    }

    ActorSystem Plaintext() =>
        Track(ActorSystem.Create(FederationHost.SystemName, BootstrapSetup.Create().WithConfig(IntruderConfig(ssl: false)).And(WireTypes.Setup())));

    static Config IntruderConfig(bool ssl) => ConfigurationFactory.ParseString($"""
        akka.actor.provider = cluster
        akka.loglevel = WARNING
        akka.remote.dot-netty.tcp {"{"} hostname = "127.0.0.1", port = 0, enable-ssl = {(ssl ? "on" : "off")} {"}"}
        akka.cluster.seed-node-timeout = 1s
        akka.cluster.retry-unsuccessful-join-after = 1s
        akka.coordinated-shutdown.phases.cluster-leave.timeout = 2s
        """).WithFallback(FederationConfig.Load(["serialization.conf"]));

    ActorSystem Track(ActorSystem system)
    {
        systems.Add(system);
        return system;
    }

    /// <summary>Every warning and error the system logs, as text.</summary>
    static ConcurrentQueue<string> Capture(ActorSystem system)
    {
        var log = new ConcurrentQueue<string>();
        var listener = system.ActorOf(Props.Create(() => new LogListener(log)));
        system.EventStream.Subscribe(listener, typeof(Warning));
        system.EventStream.Subscribe(listener, typeof(Error));
        return log;
    }

    sealed class LogListener : ReceiveActor
    {
        public LogListener(ConcurrentQueue<string> log) => ReceiveAny(e => log.Enqueue(e is LogEvent l ? $"{l.Message} {(l as Error)?.Cause}" : $"{e}"));
    }

    static async Task Until(Func<bool> condition, TimeSpan within, string what, IEnumerable<string>? log = null)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Not within {within.TotalSeconds:F0} s: {what}." + (log is null ? "" : "\nLogged:\n" + string.Join("\n", log)));
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}

using System.ComponentModel;
using System.Net;
using FedCoLLM.Actors.Security;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Security;

/// <summary><c>fedcollm certs init --out DIR</c>: the cluster's private CA (ca.crt, ca.key 0600). <see cref="CertificateAuthority"/>.</summary>
public sealed class CertsInitCommand : Command<CertsInitCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--out <DIR>")] [Description("Where to write ca.crt and ca.key (refuses to overwrite a CA). Keep ca.key off the cluster.")]
        public string Out { get; init; } = "";
        [CommandOption("--name <CN>")] [Description("The CA's common name.")] [DefaultValue("FedCoLLM cluster CA")]
        public string Name { get; init; } = "FedCoLLM cluster CA";
        [CommandOption("--days <N>")] [Description("Validity in days.")] [DefaultValue(3650)]
        public int Days { get; init; } = 3650;

        public override Spectre.Console.ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Out) ? Spectre.Console.ValidationResult.Error("--out DIR is required.")
            : Days <= 0 ? Spectre.Console.ValidationResult.Error("--days must be positive.") : Spectre.Console.ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        using var ca = CertificateAuthority.Create(s.Out, s.Name, TimeSpan.FromDays(s.Days));
        Console.WriteLine($"CA \"{ca.Certificate.Subject}\" valid until {ca.Certificate.NotAfter.ToUniversalTime():u}: " +
            $"{Path.Combine(s.Out, CertificateAuthority.CertificateFile)} (give to every node), {Path.Combine(s.Out, CertificateAuthority.KeyFile)} (0600; keep it off the cluster).");
        return 0;
    }
}

/// <summary><c>fedcollm certs issue --ca DIR --name NODE --dns HOST … --out DIR</c>: a node certificate signed by the CA,
/// with the host names and addresses the node is reached at in its SAN (tls.crt, tls.key 0600, ca.crt).</summary>
public sealed class CertsIssueCommand : Command<CertsIssueCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--ca <DIR>")] [Description("The CA directory of `fedcollm certs init`.")]
        public string Ca { get; init; } = "";
        [CommandOption("--name <NAME>")] [Description("The node's name (the certificate's CN), e.g. server-0.")]
        public string Name { get; init; } = "";
        [CommandOption("--dns <NAMES>")] [Description("Host names the node is reached at (its Akka public hostname); comma-separated or repeated.")]
        public string[] Dns { get; init; } = [];
        [CommandOption("--ip <ADDRESSES>")] [Description("IP addresses the node is reached at or connects from; comma-separated or repeated.")]
        public string[] Ip { get; init; } = [];
        [CommandOption("--days <N>")] [Description("Validity in days from --not-before (fractions allowed).")] [DefaultValue(365.0)]
        public double Days { get; init; } = 365;
        [CommandOption("--not-before <UTC>")] [Description("Start of validity (ISO 8601, e.g. 2026-01-01T00:00:00Z); default now. With a short --days, makes an already expired certificate, for testing that peers refuse it.")]
        public DateTimeOffset? NotBefore { get; init; }
        [CommandOption("--out <DIR>")] [Description("Where to write tls.crt, tls.key (0600) and ca.crt; the keys of a Kubernetes Secret.")]
        public string Out { get; init; } = "";

        public IEnumerable<string> DnsNames => Dns.SelectMany(Split);
        public IEnumerable<string> Addresses => Ip.SelectMany(Split);
        static IEnumerable<string> Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        public override Spectre.Console.ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Ca)) return Spectre.Console.ValidationResult.Error("--ca DIR is required (a CA made by `fedcollm certs init --out DIR`).");
            if (string.IsNullOrWhiteSpace(Name)) return Spectre.Console.ValidationResult.Error("--name is required (e.g. server-0).");
            if (string.IsNullOrWhiteSpace(Out)) return Spectre.Console.ValidationResult.Error("--out DIR is required.");
            if (Days <= 0) return Spectre.Console.ValidationResult.Error("--days must be positive.");
            if (!DnsNames.Any() && !Addresses.Any()) return Spectre.Console.ValidationResult.Error("Give at least one --dns or --ip: peers refuse a node whose certificate does not name the host it is reached at.");
            var bad = Addresses.FirstOrDefault(a => !IPAddress.TryParse(a, out _));
            return bad is null ? Spectre.Console.ValidationResult.Success() : Spectre.Console.ValidationResult.Error($"--ip {bad}: not an IP address.");
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        using var ca = CertificateAuthority.Load(s.Ca);
        var request = new NodeCertificateRequest(s.Name, s.DnsNames.ToArray(), s.Addresses.Select(IPAddress.Parse).ToArray())
        {
            Validity = TimeSpan.FromDays(s.Days),
            NotBefore = s.NotBefore,
        };
        using var certificate = ca.IssueTo(s.Out, request);
        Console.WriteLine($"{s.Name}: {Path.Combine(s.Out, CertificateAuthority.NodeCertificateFile)} names {PeerValidator.Names(certificate)}, valid until {certificate.NotAfter.ToUniversalTime():u}; " +
            $"key {Path.Combine(s.Out, CertificateAuthority.NodeKeyFile)} (0600); CA {Path.Combine(s.Out, CertificateAuthority.CertificateFile)}.");
        return 0;
    }
}

using Akka.Configuration;

namespace FedCoLLM.Actors.Hosting;

/// <summary>
/// Where a node is and whom it joins, from environment variables: what a Kubernetes pod, a lab namespace or a shell
/// sets. Precedence, highest first: the node's command-line flags (--port, --seed-node), these variables, the HOCON
/// files. docs/deploy.md has the table. None of them changes a job's bytes.
/// </summary>
public static class NodeEnvironment
{
    /// <summary>The address remoting binds (an IP of this host, or 0.0.0.0 with <see cref="PublicHostname"/> set).</summary>
    public const string Hostname = "FEDCOLLM_HOSTNAME";
    /// <summary>The address other nodes reach this one at (a pod's stable DNS name); defaults to <see cref="Hostname"/>.</summary>
    public const string PublicHostname = "FEDCOLLM_PUBLIC_HOSTNAME";
    public const string Port = "FEDCOLLM_PORT";
    /// <summary>Comma-separated Akka addresses (akka.ssl.tcp://fedcollm@HOST:PORT with TLS, the cluster default).</summary>
    public const string Seeds = "FEDCOLLM_SEEDS";
    /// <summary>Port of the blob bulk channel (fedcollm.blobs.bulk.port, src/FedCoLLM.Actors/Blobs/BulkChannel.cs); 0 or
    /// unset takes any free port. Set it where a firewall or network policy must name the port.</summary>
    public const string BlobPort = "FEDCOLLM_BLOB_PORT";
    /// <summary>Port of the health, metrics and status HTTP server; 0 or unset leaves it off.</summary>
    public const string HttpPort = "FEDCOLLM_HTTP_PORT";
    /// <summary>The PostgreSQL connection string (read by hocon/persistence-postgres.conf).</summary>
    public const string Postgres = "FEDCOLLM_POSTGRES";
    /// <summary>"json" writes one JSON object per log line to standard error (for log collectors).</summary>
    public const string LogFormat = "FEDCOLLM_LOG_FORMAT";

    /// <summary>This node's certificate (PEM, <c>tls.crt</c> of <c>fedcollm certs issue</c>): fedcollm.tls.certificate.</summary>
    public const string TlsCertificate = "FEDCOLLM_TLS_CERTIFICATE";
    /// <summary>Its private key (PEM, <c>tls.key</c>, mode 0600): fedcollm.tls.key.</summary>
    public const string TlsKey = "FEDCOLLM_TLS_KEY";
    /// <summary>The cluster's CA certificate (PEM, <c>ca.crt</c>), the only issuer this node trusts: fedcollm.tls.ca.</summary>
    public const string TlsCa = "FEDCOLLM_TLS_CA";

    /// <summary>The directory of a client node's private keys (<c>ID.key</c>, written by <c>fedcollm keys new</c>).</summary>
    public const string KeysDir = "FEDCOLLM_KEYS_DIR";

    public static readonly string[] All = [Hostname, PublicHostname, Port, BlobPort, Seeds, HttpPort, Postgres, LogFormat, TlsCertificate, TlsKey, TlsCa, KeysDir];

    /// <summary>The HOCON the variables stand for (empty when none is set), to lay over the files' configuration.</summary>
    public static Config Overrides(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        string? Get(string name) => read(name) is { Length: > 0 } v ? v.Trim() : null;
        var lines = new List<string>();
        if (Get(Hostname) is { } host) lines.Add($"akka.remote.dot-netty.tcp.hostname = {Quote(host)}");
        if (Get(PublicHostname) is { } publicHost) lines.Add($"akka.remote.dot-netty.tcp.public-hostname = {Quote(publicHost)}");
        if (Get(Port) is { } port) lines.Add($"akka.remote.dot-netty.tcp.port = {Number(Port, port, 0)}");
        if (Get(BlobPort) is { } blobPort) lines.Add($"{Blobs.BulkChannel.PortKey} = {Number(BlobPort, blobPort, 0)}");
        if (Get(HttpPort) is { } http) lines.Add($"fedcollm.http.port = {Number(HttpPort, http, 0)}");
        if (Get(Seeds) is { } seeds)
        {
            var list = seeds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var seed in list)
                if (!(seed.StartsWith("akka.ssl.tcp://", StringComparison.Ordinal) || seed.StartsWith("akka.tcp://", StringComparison.Ordinal)) || !Uri.TryCreate(seed, UriKind.Absolute, out var uri) || uri.Port <= 0)
                    throw new ArgumentException($"{Seeds}: \"{seed}\" is not an Akka address; expected a comma-separated list like akka.ssl.tcp://fedcollm@server-0.fedcollm-server:4053.");
            lines.Add($"akka.cluster.seed-nodes = [{string.Join(", ", list.Select(Quote))}]");
        }
        if (Get(TlsCertificate) is { } certificate) lines.Add($"fedcollm.tls.certificate = {Quote(certificate)}");
        if (Get(TlsKey) is { } key) lines.Add($"fedcollm.tls.key = {Quote(key)}");
        if (Get(TlsCa) is { } ca) lines.Add($"fedcollm.tls.ca = {Quote(ca)}");
        if (Get(KeysDir) is { } keys) lines.Add($"{FederationNode.KeysDirectoryKey} = {Quote(keys)}");
        if (Get(LogFormat) is { } format)
        {
            if (format is not ("json" or "text"))
                throw new ArgumentException($"{LogFormat}: \"{format}\" is not a log format; expected json or text.");
            lines.Add($"fedcollm.log-format = {format}");
        }
        return lines.Count == 0 ? Config.Empty : ConfigurationFactory.ParseString(string.Join("\n", lines));
    }

    static string Number(string name, string value, int min) =>
        int.TryParse(value, out var n) && n >= min && n <= 65535 ? n.ToString() : throw new ArgumentException($"{name}: \"{value}\" is not a port number (0–65535).");

    static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}

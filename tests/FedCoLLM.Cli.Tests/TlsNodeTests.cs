using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Security;
using FedCoLLM.Cli.Chaos;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// Mutual TLS through the command line, as an operator meets it: `fedcollm certs init` and `certs issue` make the files;
/// `fedcollm node` with the shipped cluster.conf and no certificate refuses to start, naming the fix; and separate
/// `fedcollm node` processes with certificates from one CA form a cluster over TLS (akka.ssl.tcp), while a node whose
/// certificate comes from another CA is refused by them (logged), never joins, and the members stay as they were.
/// The nodes run the aggregator role only, which journals nothing, so no database is needed.
/// </summary>
[Collection(ChildProcesses.Name)]
public class TlsNodeTests
{
    static readonly TimeSpan Within = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Certs_init_and_issue_write_a_CA_and_a_node_certificate_naming_its_hosts()
    {
        using var dir = new TempDir();
        var ca = Path.Combine(dir.Path, "ca");
        var node = Path.Combine(dir.Path, "server-0");
        var (code, output) = await Fedcollm.Run(["certs", "init", "--out", ca]);
        Assert.True(code == 0, output);
        (code, output) = await Fedcollm.Run(["certs", "issue", "--ca", ca, "--name", "server-0", "--dns", "server-0.fedcollm-server,server-0.fedcollm-server.fedcollm.svc.cluster.local", "--ip", "10.0.0.5", "--out", node]);
        Assert.True(code == 0, output);
        Assert.Contains("names server-0.fedcollm-server, server-0.fedcollm-server.fedcollm.svc.cluster.local, 10.0.0.5", output);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(node, "tls.key")));
        Assert.Equal(File.ReadAllText(Path.Combine(ca, "ca.crt")), File.ReadAllText(Path.Combine(node, "ca.crt")));

        // Without a host the certificate would be refused by every peer: the command says so instead.
        (code, output) = await Fedcollm.Run(["certs", "issue", "--ca", ca, "--name", "x", "--out", Path.Combine(dir.Path, "x")]);
        Assert.NotEqual(0, code);
        Assert.Contains("--dns or --ip", output);
    }

    [Fact]
    public async Task A_node_with_the_shipped_cluster_configuration_and_no_certificate_does_not_start_and_says_how_to_make_one()
    {
        using var dir = new TempDir();
        var info = Fedcollm.StartInfo(["node", "--role", "aggregator", "--port", $"{LoopbackLayout.FreePorts(1)[0]}", "--out", dir.Path,
            "--config", "cluster.conf", "--config", "sharding.conf", "--config", "serialization.conf"]);
        foreach (var name in new[] { NodeEnvironment.TlsCertificate, NodeEnvironment.TlsKey, NodeEnvironment.TlsCa }) info.Environment.Remove(name);
        var (code, output) = await Fedcollm.Run(info, Within);
        Assert.NotEqual(0, code);
        Assert.Contains("FEDCOLLM_TLS_CERTIFICATE", output);
        Assert.Contains("fedcollm certs issue", output);
        Assert.DoesNotContain("joined the cluster", output);
    }

    [Fact]
    public async Task Node_processes_form_a_cluster_over_TLS_and_refuse_a_node_certified_by_another_CA()
    {
        using var dir = new TempDir();
        using var ours = RunCertificates.Create(Path.Combine(dir.Path, "ours"));
        using var theirs = RunCertificates.Create(Path.Combine(dir.Path, "theirs"));
        var ports = LoopbackLayout.FreePorts(3);
        var seed = $"{LoopbackLayout.Scheme}://fedcollm@127.0.0.1:{ports[0]}";
        NodeProcess Node(string name, int port, NodeCredentials credentials)
        {
            var info = Fedcollm.StartInfo(["node", "--role", "aggregator", "--port", $"{port}", "--out", Path.Combine(dir.Path, name), "--seed-node", seed,
                "--config", "cluster.conf", "--config", "sharding.conf", "--config", "serialization.conf"]);
            foreach (var (k, v) in credentials.Environment) info.Environment[k] = v;
            return NodeProcess.Start(name, info);
        }

        using var first = Node("first", ports[0], ours.Loopback("first"));
        using var second = Node("second", ports[1], ours.Loopback("second"));
        await Until(() => second.Saw("joined the cluster (2 members)") || first.Saw("joined the cluster (2 members)") && second.Saw("joined the cluster"), "the two nodes form a cluster", first, second);
        Assert.True(first.Saw($"Node {seed}"), first.Output);

        using var intruder = Node("intruder", ports[2], theirs.Loopback("intruder"));
        await Until(() => first.Saw(PeerValidator.Refused) || second.Saw(PeerValidator.Refused), "a node refuses the intruder, logging why", first, second, intruder);
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.False(intruder.Saw("joined the cluster"), intruder.Output);
        Assert.False(first.Saw("3 members") || second.Saw("3 members"), first.Output + second.Output);
        Assert.Contains(first.Lines.Concat(second.Lines), l => l.Text.Contains(PeerValidator.Refused) && l.Text.Contains("not valid under our CA"));
    }

    static async Task Until(Func<bool> condition, string what, params NodeProcess[] nodes)
    {
        var deadline = DateTime.UtcNow + Within;
        while (!condition())
        {
            var exited = nodes.Where(n => n.HasExited).ToArray();
            if (DateTime.UtcNow > deadline || exited.Length > 0 && !condition())
            {
                // An exited process's last lines may still be in its pipes: drain them, so the failure shows why it ended.
                foreach (var n in exited) await n.WaitForExit(TimeSpan.FromSeconds(5));
                var why = exited.Length > 0 ? $"{string.Join(", ", exited.Select(n => $"{n.Name} exited with code {n.ExitCode}"))} before" : $"not within {Within.TotalSeconds:F0} s";
                Assert.Fail($"{why}: {what}.\n{string.Join("\n", nodes.Select(n => n.Output))}");
            }
            await Task.Delay(200);
        }
    }
}

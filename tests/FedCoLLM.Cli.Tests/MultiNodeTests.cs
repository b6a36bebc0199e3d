using FedCoLLM.Actors.Security;
using System.Diagnostics;
using System.Text.Json.Nodes;
using FedCoLLM.Cli.Chaos;
using FedCoLLM.Tests.Shared;

namespace FedCoLLM.Cli.Tests;

/// <summary>Runs only where PostgreSQL is configured; skipped locally without FEDCOLLM_POSTGRES, run (and failing,
/// naming the variable) in CI.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        Skip = Requirement.Skip(Postgres.ConnectionString is null ? Postgres.SkipReason : null, "FEDCOLLM_REQUIRE_POSTGRES");
    }
}

/// <summary>
/// A real multi-process cluster on loopback: five `fedcollm node` child processes (server, server, aggregator+server,
/// two clients) journaling to PostgreSQL. The node hosting the job entity is SIGKILLed in the middle of the round; the
/// entity restarts on another server node from the journal and the job ends with the adapters of an uninterrupted
/// single-process `fedcollm run` (bit for bit: every step is a pure function of its inputs and seed).
/// </summary>
[Collection(ChildProcesses.Name)]
public class MultiNodeTests
{
    const string Job = "multinode";
    static readonly TempDir Jobs = new();
    static readonly string JobFile = TestJobs.Write(Jobs.Path, Job, $"job.id = {Job}", "job.seed = 7", "job.compute.threads = 1");

    static readonly Lazy<Task<(string Slm, string Llm)>> Reference = new(async () =>
    {
        using var dir = new TempDir();
        var (code, output) = await Fedcollm.Run(["run", JobFile, "--out", dir.Path]);
        Assert.True(code == 0, output);
        return FinalHashes(Path.Combine(dir.Path, Job));
    });

    [PostgresFact]
    public async Task Killing_the_node_hosting_the_job_mid_round_moves_the_job_to_another_server_node_which_completes_it_identically()
    {
        if (Postgres.Unavailable() is { } reason) Assert.Fail(reason); // not reached: the attribute skips
        var expected = await Reference.Value;

        using var database = new PostgresDatabase();
        using var dir = new TempDir();
        var ports = LoopbackLayout.FreePorts(6);
        string[] seeds = [.. ports.Take(3).SelectMany(p => new[] { "--seed-node", $"{LoopbackLayout.Scheme}://fedcollm@127.0.0.1:{p}" })];
        var serverBlobs = Path.Combine(dir.Path, "server-blobs");
        // hocon/cluster.conf as shipped: mutual TLS, with a CA made for this run and a certificate per node.
        using var certificates = RunCertificates.Create(Path.Combine(dir.Path, "tls"));
        NodeProcess Node(string name, int port, params string[] args)
        {
            var info = Fedcollm.StartInfo([.. args, "--port", $"{port}", "--out", Path.Combine(dir.Path, name), .. seeds]);
            info.Environment["FEDCOLLM_POSTGRES"] = database.ConnectionString;
            foreach (var (k, v) in certificates.Loopback(name).Environment) info.Environment[k] = v;
            return NodeProcess.Start(name, info);
        }

        var nodes = new List<NodeProcess>();
        try
        {
            var servers = new[]
            {
                Node("server-1", ports[0], "node", "--role", "server", "--blobs", serverBlobs),
                Node("server-2", ports[1], "node", "--role", "server", "--blobs", serverBlobs),
                Node("aggregator", ports[2], "node", "--role", "aggregator", "--role", "server", "--blobs", serverBlobs),
            };
            nodes.AddRange(servers);
            nodes.Add(Node("client-plant", ports[3], "node", "--role", "client", "--client-id", "noun.plant", "--data", $"noun.plant={Repository.Root}/data/wordnet/clients/noun.plant/train.jsonl"));
            nodes.Add(Node("client-animal", ports[4], "node", "--role", "client", "--client-id", "noun.animal", "--data-dir", "data/wordnet/clients"));
            // A role-less node submits the job file and follows it; the server nodes' store holds the final adapters.
            var starter = Node("submitter", ports[5], "submit", JobFile, "--watch", "--report-dir", Path.Combine(dir.Path, "report"), "--blobs", serverBlobs);
            nodes.Add(starter);

            // Mid-round: the server is distilling its LLM into the SLM on the entity's node.
            await WaitForLine(starter, "· SlmDistillation", TimeSpan.FromMinutes(2));
            var host = servers.SingleOrDefault(s => s.Saw("is hosted on this node"));
            Assert.True(host is not null, "no server node reported hosting the job entity:\n" + string.Join("\n", servers.Select(s => s.Output)));
            host.Kill();

            var killedAt = Stopwatch.StartNew();
            while (!servers.Any(s => s != host && s.Saw("is hosted on this node")))
            {
                if (killedAt.Elapsed > TimeSpan.FromMinutes(2))
                    Assert.Fail("the job entity did not restart on another server node:\n" + string.Join("\n", nodes.Select(n => n.Output)));
                await Task.Delay(200);
            }
            var moved = killedAt.Elapsed;
            Assert.True(await starter.WaitForExit(TimeSpan.FromMinutes(2)) == 0, starter.Output);
            Assert.Contains("round 1/1 attempt 1 · Completed", starter.Output);
            Assert.Equal(expected, FinalHashes(Path.Combine(dir.Path, "report")));
            // Each client's update is journaled once, whatever the crash re-ran.
            Assert.Equal(2, ClientUpdates(database));
            Console.WriteLine($"job entity restarted on another server node {moved.TotalSeconds:F1} s after the kill");
        }
        finally
        {
            foreach (var n in nodes) n.Kill();
            foreach (var n in nodes) n.Dispose();
        }
    }

    static async Task WaitForLine(NodeProcess node, string text, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!node.Saw(text))
        {
            if (node.HasExited) Assert.Fail($"{node.Name} exited ({node.ExitCode}) before printing \"{text}\":\n{node.Output}");
            if (DateTime.UtcNow > deadline) Assert.Fail($"{node.Name} did not print \"{text}\" within {within.TotalSeconds:F0} s:\n{node.Output}");
            await Task.Delay(200);
        }
    }

    static int ClientUpdates(PostgresDatabase database)
    {
        using var connection = new Npgsql.NpgsqlConnection(database.ConnectionString);
        connection.Open();
        using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM journal WHERE manifest LIKE 'client-update-accepted%'", connection);
        return Convert.ToInt32(command.ExecuteScalar());
    }

    static (string Slm, string Llm) FinalHashes(string outDir)
    {
        var final = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")))!["final"]!;
        Assert.Equal(1, final["round"]!.GetValue<int>());
        return (final["slm_adapter_sha256"]!.GetValue<string>(), final["llm_adapter_sha256"]!.GetValue<string>());
    }
}

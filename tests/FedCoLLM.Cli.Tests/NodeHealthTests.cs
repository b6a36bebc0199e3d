using FedCoLLM.Actors.Security;
using System.Net;
using System.Text.Json;
using FedCoLLM.Cli.Chaos;
using FedCoLLM.Tests.Shared;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// A node's <c>/healthz/ready</c> follows its cluster membership: a `fedcollm node` whose seed is not running yet
/// answers 503 naming the member check, and 200 once the seed starts and it has joined (journal answering, shard
/// regions registered). The node logs in JSON (FEDCOLLM_LOG_FORMAT=json), which this test checks line by line.
/// </summary>
[Collection(ChildProcesses.Name)]
public class NodeHealthTests
{
    static readonly TimeSpan Within = TimeSpan.FromSeconds(60);

    [PostgresFact]
    public async Task Readiness_is_503_before_the_node_joins_and_200_after()
    {
        if (Postgres.Unavailable() is { } reason) Assert.Fail(reason); // not reached: the attribute skips
        using var database = new PostgresDatabase();
        using var dir = new TempDir();
        var ports = LoopbackLayout.FreePorts(3);
        var (seedPort, nodePort, httpPort) = (ports[0], ports[1], ports[2]);
        using var certificates = RunCertificates.Create(Path.Combine(dir.Path, "tls"));
        NodeProcess Node(string name, int port, int? http)
        {
            var info = Fedcollm.StartInfo(["node", "--role", "server", "--port", $"{port}", "--out", Path.Combine(dir.Path, name),
                "--blobs", Path.Combine(dir.Path, "blobs"), "--seed-node", $"{LoopbackLayout.Scheme}://fedcollm@127.0.0.1:{seedPort}"]);
            foreach (var (k, v) in certificates.Loopback(name).Environment) info.Environment[k] = v;
            info.Environment["FEDCOLLM_POSTGRES"] = database.ConnectionString;
            info.Environment["FEDCOLLM_LOG_FORMAT"] = "json";
            if (http is { } h) info.Environment["FEDCOLLM_HTTP_PORT"] = $"{h}";
            return NodeProcess.Start(name, info);
        }

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(10) };
        using var node = Node("node", nodePort, httpPort);
        NodeProcess? seed = null;
        try
        {
            // Before its seed exists the node cannot join: live, but not ready, and the body says why.
            var first = await FirstAnswer(http, "/healthz/ready", node);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, first.Status);
            using (var body = JsonDocument.Parse(first.Body))
            {
                Assert.Equal("not ready", body.RootElement.GetProperty("status").GetString());
                Assert.Contains("member", body.RootElement.GetProperty("failed").EnumerateArray().Select(e => e.GetString()));
            }
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz/live")).StatusCode);

            seed = Node("seed", seedPort, null);
            var ready = await Poll(http, "/healthz/ready", a => a.Status == HttpStatusCode.OK, node, seed);
            using (var body = JsonDocument.Parse(ready.Body))
            {
                Assert.Equal("ready", body.RootElement.GetProperty("status").GetString());
                foreach (var check in new[] { "member", "journal", "shards" })
                    Assert.True(body.RootElement.GetProperty("checks").GetProperty(check).GetProperty("ok").GetBoolean(), ready.Body);
            }

            // Every log line on stderr is one JSON object with the documented fields (a node's own stdout lines are text).
            var logLines = node.Lines.Select(l => l.Text).Where(t => t.StartsWith('{')).ToArray();
            Assert.True(logLines.Length > 0, "the node logged nothing as JSON while it could not join:\n" + node.Output);
            foreach (var line in logLines)
            {
                using var log = JsonDocument.Parse(line);
                foreach (var field in new[] { "timestamp", "level", "logger", "message" })
                    Assert.True(log.RootElement.TryGetProperty(field, out _), $"no \"{field}\" in {line}");
            }
            Assert.DoesNotContain(node.Lines, l => l.Text.StartsWith("[WARNING]", StringComparison.Ordinal));
        }
        finally
        {
            seed?.Dispose();
        }
    }

    sealed record Answer(HttpStatusCode Status, string Body);

    /// <summary>The first HTTP answer of the node's port (it opens a moment after the process starts).</summary>
    static Task<Answer> FirstAnswer(HttpClient http, string path, NodeProcess node) => Poll(http, path, _ => true, node);

    static async Task<Answer> Poll(HttpClient http, string path, Func<Answer, bool> until, params NodeProcess[] nodes)
    {
        var deadline = DateTime.UtcNow + Within;
        Answer? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (nodes.FirstOrDefault(n => n.HasExited) is { } gone) Assert.Fail($"{gone.Name} exited ({gone.ExitCode}):\n{string.Join("\n", nodes.Select(n => n.Output))}");
            try
            {
                using var response = await http.GetAsync(path);
                last = new Answer(response.StatusCode, await response.Content.ReadAsStringAsync());
                if (until(last)) return last;
            }
            catch (HttpRequestException) { } // not listening yet
            await Task.Delay(250);
        }
        Assert.Fail($"{path} did not answer as expected within {Within.TotalSeconds:0} s (last: {last}):\n{string.Join("\n", nodes.Select(n => n.Output))}");
        return null!;
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FedCoLLM.Cli.Fuzz;

/// <summary>
/// Seeded garbage for a node's HTTP port, written on raw sockets so that nothing in between cleans it up: random bytes,
/// broken request lines, unknown methods, mutated and oversized paths, huge or countless headers, lying Content-Length,
/// broken chunked bodies, an HTTP/2 preface, requests cut short. Each response's status is counted; a 500 means a
/// handler threw on the input, which the fuzz test does not allow.
/// </summary>
public sealed class HttpFuzzer(int seed)
{
    readonly Random random = new(seed);

    public static readonly string[] Kinds =
        ["garbage", "bad-request-line", "random-path", "random-method", "huge-header", "many-headers", "bad-length", "bad-chunked", "http2-preface", "cut-short"];

    static readonly string[] Routes = ["/", "/healthz/live", "/healthz/ready", "/metrics", "/api/jobs", "/api/jobs/x", "/status/status.js", "/status/index.html"];

    public (string Kind, byte[] Bytes) Next()
    {
        var kind = Kinds[random.Next(Kinds.Length)];
        string route = Routes[random.Next(Routes.Length)];
        string text = kind switch
        {
            "garbage" => "",
            "bad-request-line" => Pick("GARBAGE\r\n\r\n", "GET\r\n\r\n", $"GET {route} HTTP/9.9\r\nHost: x\r\n\r\n", $"GET {route}\0 HTTP/1.1\r\n\r\n", " / HTTP/1.1\r\n\r\n", $"GET {route} HTTP/1.1\nHost: x\n\n", "\r\n\r\n\r\n"),
            "random-path" => Request("GET", MutatePath(route)),
            "random-method" => Request(Pick("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "FOO", new string('G', 300)), route),
            "huge-header" => $"GET {route} HTTP/1.1\r\nHost: x\r\nX-Big: {new string('a', random.Next(16_000, 1_000_000))}\r\n\r\n",
            "many-headers" => $"GET {route} HTTP/1.1\r\nHost: x\r\n" + string.Concat(Enumerable.Range(0, random.Next(100, 3000)).Select(i => $"X-{i}: {i}\r\n")) + "\r\n",
            "bad-length" => $"POST {route} HTTP/1.1\r\nHost: x\r\nContent-Length: {Pick("-1", "99999999999999999999", "abc", "10, 20", "4")}\r\n{Pick("", "Transfer-Encoding: chunked\r\n")}\r\n{new string('z', random.Next(0, 64))}",
            "bad-chunked" => $"POST {route} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{Pick("zz\r\nabc\r\n0\r\n\r\n", "ffffffffffffffff\r\nabc\r\n", "5\r\nab\r\n", "-1\r\n\r\n")}",
            "http2-preface" => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "cut-short" => Request("GET", route)[..random.Next(1, 12)],
            _ => throw new InvalidOperationException(kind),
        };
        if (kind != "garbage") return (kind, Encoding.Latin1.GetBytes(text));
        var bytes = new byte[random.Next(1, 4096)];
        random.NextBytes(bytes);
        return (kind, bytes);
    }

    string Pick(params string[] options) => options[random.Next(options.Length)];

    static string Request(string method, string path) => $"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    string MutatePath(string route) => random.Next(8) switch
    {
        0 => route + "/../../../../etc/passwd",
        1 => route + "?" + string.Concat(Enumerable.Range(0, random.Next(1, 50)).Select(i => $"k{i}=%{random.Next(256):X2}&")),
        2 => "/" + new string('a', random.Next(1_000, 20_000)),
        3 => route.Replace("/", "%2F"),
        4 => route + "/%00%ff%c0%af",
        5 => "/api/jobs/" + Uri.EscapeDataString(string.Concat(Enumerable.Range(0, random.Next(1, 40)).Select(_ => (char)random.Next(1, 0xD7FF)))),
        6 => "//" + route + "//",
        _ => "*",
    };

    public async Task<FuzzTally> RunAsync(int port, int maxCases, TimeSpan duration, CancellationToken cancellation)
    {
        var tally = new FuzzTally();
        var clock = Stopwatch.StartNew();
        while (tally.Cases < maxCases && clock.Elapsed < duration && !cancellation.IsCancellationRequested)
        {
            var (kind, bytes) = Next();
            tally.Count(kind);
            using var client = await FuzzSocket.ConnectAsync(port, cancellation);
            if (client is null)
            {
                tally.Refused++;
                continue;
            }
            var stream = client.GetStream();
            try
            {
                await stream.WriteAsync(bytes, cancellation);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                wait.CancelAfter(TimeSpan.FromMilliseconds(kind == "cut-short" ? 50 : 500));
                var buffer = new byte[64];
                int n = await stream.ReadAtLeastAsync(buffer, 12, throwOnEndOfStream: false, wait.Token);
                if (n == 0) tally.ClosedByPeer++;
                else
                {
                    tally.Answered++;
                    var head = Encoding.Latin1.GetString(buffer, 0, n);
                    if (head.StartsWith("HTTP/", StringComparison.Ordinal) && head.Length >= 12 && int.TryParse(head.AsSpan(9, 3), out var status))
                        tally.Statuses[status] = tally.Statuses.GetValueOrDefault(status) + 1;
                }
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested) { tally.LeftOpen++; }
            catch (IOException) { tally.ClosedByPeer++; }
        }
        tally.Elapsed = clock.Elapsed;
        return tally;
    }
}

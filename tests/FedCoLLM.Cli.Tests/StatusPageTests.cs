using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using FedCoLLM.Cli.Chaos;
using SkiaSharp;
using Xunit.Abstractions;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// The status page of a live `fedcollm run` (a child process with FEDCOLLM_HTTP_PORT), loaded in headless Chromium:
/// the page's script fetches the API and draws the job, its rounds and plots; the test waits until round 1 is on the
/// page, then takes a screenshot and checks it is a real picture of the page, not a blank or an error page.
/// </summary>
[Collection(ChildProcesses.Name)]
public class StatusPageTests(ITestOutputHelper log)
{
    static readonly TimeSpan Limit = TimeSpan.FromMinutes(8);
    const string Job = "status-page";
    const int Width = 1280, Height = 1000;

    [ChromiumFact]
    public async Task The_status_page_shows_a_running_job_its_rounds_and_plots_in_a_browser()
    {
        if (HeadlessChromium.Unavailable() is { } reason) Assert.Fail(reason); // not reached: the attribute skips
        var clock = Stopwatch.StartNew();
        using var files = new TempDir();
        // The quick job with far more rounds than the test waits for: `run --quick` ends (and its web server with it)
        // as soon as its one round commits, which on an idle machine is seconds after round 1 reaches the page; this
        // run is still live whenever the test looks, and is killed at the end.
        var job = TestJobs.Write(files.Path, Job, $"job.id = {Job}", "job.rounds = 50");
        using var dir = new TempDir();
        var port = FreePort();
        var info = Fedcollm.StartInfo(["run", job, "--out", dir.Path]);
        info.Environment["FEDCOLLM_HTTP_PORT"] = $"{port}";
        var page = $"http://127.0.0.1:{port}/";
        using var run = NodeProcess.Start("run", info);
        try
        {
            // Wait on the page's own API (cheap) until round 1 has committed, then render the page in the browser until
            // round 1's row is in its DOM (the page's script fetches the API after load). A browser start per poll cost
            // about 30 s of CI.
            using var http = new HttpClient { BaseAddress = new Uri(page), Timeout = TimeSpan.FromSeconds(5) };
            while (!await RoundOneCommitted(run, http))
            {
                Assert.False(run.HasExited, $"the run exited before round 1 committed:\n{run.Output}");
                Assert.True(clock.Elapsed < Limit, $"round 1 never committed:\n{run.Output}");
                await Task.Delay(500);
            }
            log.WriteLine($"round 1 in the API: {clock.Elapsed.TotalSeconds:F0} s");
            string dom;
            while (!(dom = await HeadlessChromium.DumpDom(page, TimeSpan.FromSeconds(3))).Contains("data-round=\"1\"", StringComparison.Ordinal))
            {
                Assert.False(run.HasExited, $"the run exited before round 1 was on the page:\n{run.Output}");
                Assert.True(clock.Elapsed < Limit, $"round 1 never appeared on the page:\n{dom}\n{run.Output}");
                await Task.Delay(1000);
            }
            log.WriteLine($"round 1 on the page: {clock.Elapsed.TotalSeconds:F0} s");
            Assert.Contains($"data-job=\"{Job}\"", dom);
            Assert.Contains($">{Job}<", dom);
            Assert.Contains("Round 1<", dom);
            Assert.Contains("data-client=\"noun.animal\"", dom);
            Assert.Contains("<svg", dom);
            Assert.DoesNotContain("Not refreshed", dom);

            var png = Path.Combine(dir.Path, "status-page.png");
            await HeadlessChromium.Screenshot(page, png, Width, Height, TimeSpan.FromSeconds(5));
            AssertIsAPicture(png);
            log.WriteLine($"screenshot {png}: {clock.Elapsed.TotalSeconds:F0} s");
            if (Environment.GetEnvironmentVariable("FEDCOLLM_STATUS_SCREENSHOT") is { Length: > 0 } keep) File.Copy(png, keep, overwrite: true);

            // The API the page reads: the same round, read-only (no POST), and no entity for a job that does not exist.
            var detail = JsonNode.Parse(await http.GetStringAsync($"api/jobs/{Job}"))!;
            Assert.Equal(1, detail["history"]![0]!["round"]!.GetValue<int>());
            Assert.Equal(["noun.animal", "noun.plant"], detail["clients"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()));
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("api/jobs/no-such-job")).StatusCode);
            Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.PostAsync("api/jobs", new StringContent(""))).StatusCode);
            var list = JsonNode.Parse(await http.GetStringAsync("api/jobs"))!;
            Assert.Equal([Job], list["jobs"]!.AsArray().Select(j => j!["id"]!.GetValue<string>()));
        }
        finally
        {
            run.Kill();
        }
    }

    /// <summary>Whether the job's history in the API has round 1; false while the run is still starting (nothing
    /// listens yet, or the job is not known yet).</summary>
    static async Task<bool> RoundOneCommitted(NodeProcess run, HttpClient http)
    {
        if (!run.Saw("Status page on")) return false;
        try
        {
            var response = await http.GetAsync($"api/jobs/{Job}");
            if (!response.IsSuccessStatusCode) return false;
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["history"]!.AsArray().Any(r => r!["round"]!.GetValue<int>() == 1);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }
    }

    /// <summary>A PNG of the requested size that shows something: many pixels that are not the page's background and
    /// many distinct colours (text, plot lines), which neither a blank page nor a browser error page has.</summary>
    static void AssertIsAPicture(string png)
    {
        var bytes = File.ReadAllBytes(png);
        Assert.True(bytes.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "not a PNG");
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.Equal((Width, Height), (bitmap.Width, bitmap.Height));
        var background = bitmap.GetPixel(Width - 1, Height - 1);
        var colours = new HashSet<SKColor>();
        long other = 0;
        for (var y = 0; y < Height; y += 2)
            for (var x = 0; x < Width; x += 2)
            {
                var c = bitmap.GetPixel(x, y);
                colours.Add(c);
                if (c != background) other++;
            }
        var share = other / (double)(Width / 2 * (Height / 2));
        Assert.True(share > 0.2, $"only {share:P1} of the screenshot differs from its background {background}");
        Assert.True(colours.Count > 50, $"only {colours.Count} colours in the screenshot");
    }

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

using FedCoLLM.Tests.Shared;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using FedCoLLM.Cli.Chaos;

namespace FedCoLLM.Cli.Tests;

/// <summary>Debian's prometheus package (promtool, prometheus), which .ci/run installs. Missing locally: the tests that
/// need it are skipped, saying so; missing in CI (CI=true): they fail.</summary>
static class PrometheusTools
{
    public static string? Find(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    public static string? SkipReason =>
        Find("promtool") is not null && Find("prometheus") is not null ? null
            : "promtool and prometheus are not installed (apt-get install prometheus; .ci/run does); the Prometheus tests are skipped.";

    public static bool Required => Requirement.InCi();
}

/// <summary>Runs only where promtool and prometheus are installed; in CI it runs (and fails, saying what is missing).</summary>
public sealed class PrometheusFactAttribute : FactAttribute
{
    public PrometheusFactAttribute()
    {
        Skip = Requirement.Skip(PrometheusTools.SkipReason);
    }
}

/// <summary>A real Prometheus server scraping one target every second (keeping the target's own "job" label, as
/// docs/deploy.md advises), with its storage in a temporary directory; killed on dispose.</summary>
sealed class PrometheusServer : IDisposable
{
    readonly TempDir dir = new();
    readonly NodeProcess process;
    readonly HttpClient http;

    public PrometheusServer(int target)
    {
        var binary = PrometheusTools.Find("prometheus") ?? throw new InvalidOperationException(PrometheusTools.SkipReason);
        var port = LoopbackLayout.FreePorts(1)[0];
        var config = Path.Combine(dir.Path, "prometheus.yml");
        File.WriteAllText(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: fedcollm
                honor_labels: true
                static_configs:
                  - targets: ["127.0.0.1:{target}"]
            """);
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir.Path,
        };
        foreach (var a in new[] { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(dir.Path, "data")}", $"--web.listen-address=127.0.0.1:{port}" })
            info.ArgumentList.Add(a);
        process = NodeProcess.Start("prometheus", info);
        http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public string Output => process.Output;

    /// <summary>The value of the first series an instant query returns, or null while it returns none.</summary>
    public async Task<double?> Query(string promql)
    {
        if (process.HasExited) Assert.Fail($"prometheus exited ({process.ExitCode}):\n{process.Output}");
        try
        {
            using var response = await http.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(promql));
            if (!response.IsSuccessStatusCode) return null;
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            var result = body.GetProperty("data").GetProperty("result");
            return result.GetArrayLength() == 0 ? null : double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException)
        {
            return null; // still starting
        }
    }

    public void Dispose()
    {
        http.Dispose();
        process.Dispose();
        dir.Dispose();
    }
}

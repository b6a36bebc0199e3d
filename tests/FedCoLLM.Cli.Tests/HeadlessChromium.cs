using FedCoLLM.Tests.Shared;
using System.Diagnostics;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// Chromium in headless mode, driven from its command line (no WebDriver, no npm): <c>--dump-dom</c> prints the DOM
/// after the page's scripts ran, <c>--screenshot</c> writes a PNG. Debian's <c>chromium</c> package; .ci/run installs
/// it. Absent locally: the browser tests are skipped, saying so. Absent in CI (CI=true, or FEDCOLLM_REQUIRE_CHROMIUM=1
/// as .ci/run exports): they fail, naming the package; they never pass silently.
/// </summary>
static class HeadlessChromium
{
    /// <summary>FEDCOLLM_CHROMIUM, else the first browser found on the usual paths.</summary>
    public static string? Executable { get; } =
        new[] { Environment.GetEnvironmentVariable("FEDCOLLM_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));

    public static bool Required => Requirement.InCi("FEDCOLLM_REQUIRE_CHROMIUM");

    public const string SkipReason = "Chromium is not installed (apt-get install chromium, or set FEDCOLLM_CHROMIUM); browser tests skipped. .ci/run installs it.";

    /// <summary>Null when the tests may run; the skip reason when they may be skipped; throws when they must not be.</summary>
    public static string? Unavailable()
    {
        if (Executable is not null) return null;
        if (Required)
            throw new InvalidOperationException("Chromium is not installed, but this is a CI run (CI=true or FEDCOLLM_REQUIRE_CHROMIUM=1): the browser tests must run. apt-get install chromium (see .ci/run).");
        return SkipReason;
    }

    /// <summary>The page's DOM once its scripts have had <paramref name="budget"/> of virtual time (the page's first
    /// fetches complete within it; chromium waits for pending network requests while virtual time is paused).</summary>
    public static async Task<string> DumpDom(string url, TimeSpan budget) =>
        await Run([$"--virtual-time-budget={(int)budget.TotalMilliseconds}", "--dump-dom", url]);

    /// <summary>A PNG of the page in a <paramref name="width"/> × <paramref name="height"/> window.</summary>
    public static async Task Screenshot(string url, string png, int width, int height, TimeSpan budget) =>
        await Run([$"--window-size={width},{height}", "--hide-scrollbars", $"--virtual-time-budget={(int)budget.TotalMilliseconds}", $"--screenshot={png}", url]);

    /// <summary>One headless browser run with a fresh profile; its stdout. Throws with its stderr when it fails.</summary>
    static async Task<string> Run(IEnumerable<string> args)
    {
        var profile = Directory.CreateTempSubdirectory("fedcollm-chromium-").FullName;
        try
        {
            // Flags that work as root in a container: no sandbox (it needs user namespaces), no GPU, and nothing that
            // reaches the network on its own (no QUIC, updates, sync or first-run pages).
            string[] command =
            [
                Executable ?? throw new InvalidOperationException(SkipReason),
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}",
                .. args,
            ];
            var result = await ShortCommand.RunAsync(command, TimeSpan.FromMinutes(2));
            if (result.TimedOut)
                throw new TimeoutException($"chromium {string.Join(" ", args)} did not exit within 2 minutes:\n{result.Stderr}");
            if (result.Code != 0)
                throw new InvalidOperationException($"chromium {string.Join(" ", args)} exited with {result.Code}:\n{result.Stderr}");
            return result.Stdout;
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { }
        }
    }
}

/// <summary>Runs only where Chromium is installed; skipped locally without it, run (and failing, naming the package) in CI.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        Skip = Requirement.Skip(HeadlessChromium.Executable is null ? HeadlessChromium.SkipReason : null, "FEDCOLLM_REQUIRE_CHROMIUM");
    }
}

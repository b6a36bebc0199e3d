using System.Collections.Frozen;

namespace FedCoLLM.Web.Status;

/// <summary>
/// The page's static files (Status/wwwroot), embedded in this assembly so a node serves them from wherever it runs
/// (a container image, a test's output folder) with nothing to copy. Read once; they never change at run time.
/// </summary>
static class StatusAssets
{
    public sealed record Asset(string Path, byte[] Content, string ContentType);

    const string Prefix = "FedCoLLM.Web.Status.wwwroot.";

    static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".svg"] = "image/svg+xml",
    }.ToFrozenDictionary();

    /// <summary>By file name (index.html, status.js, …).</summary>
    public static readonly FrozenDictionary<string, Asset> All = Load();

    static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(StatusAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var file = name[Prefix.Length..];
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            assets[file] = new Asset(file, buffer.ToArray(), ContentTypes.GetValueOrDefault(Path.GetExtension(file), "application/octet-stream"));
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

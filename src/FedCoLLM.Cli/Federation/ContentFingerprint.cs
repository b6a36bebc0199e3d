using System.Security.Cryptography;
using System.Text;

namespace FedCoLLM.Cli.Federation;

/// <summary>
/// Short SHA-256 fingerprints of data files and model directories by content, so a job's settings digest names what
/// the numbers were made from, not where it lay: a run directory moved or a repository cloned elsewhere still resumes,
/// and a data file edited in place is caught.
/// </summary>
public static class ContentFingerprint
{
    public static string OfFile(string? path)
    {
        if (path is null) return "none";
        if (!File.Exists(path)) return "missing";
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream))[..16];
    }

    /// <summary>Every file under the directory, by relative name and content, in ordinal order.</summary>
    public static string OfDirectory(string path)
    {
        if (!Directory.Exists(path)) return "missing";
        var text = new StringBuilder();
        foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                     .Select(f => Path.GetRelativePath(path, f).Replace('\\', '/')).Order(StringComparer.Ordinal))
            text.Append(file).Append('=').AppendLine(OfFile(Path.Combine(path, file)));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }
}

using System.Security.Cryptography;
using System.Text;

namespace FedCoLLM.Actors.Jobs;

/// <summary>
/// SHA-256 of files and model directories by content. A directory's fingerprint is the map relative name → file hash
/// of every file under it (names with '/', ordinal order); its single hash is the SHA-256 of the lines
/// <c>{hex}  {name}\n</c> in that order — what <c>sha256sum</c> prints — so a user can compute it with
/// <c>find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum</c>.
/// </summary>
public static class DirectoryFingerprint
{
    public static string OfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static SortedDictionary<string, string> Files(string directory)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
            files.Add(Path.GetRelativePath(directory, file).Replace('\\', '/'), OfFile(file));
        return files;
    }

    public static string Hash(IReadOnlyDictionary<string, string> files)
    {
        var listing = new StringBuilder();
        foreach (var (name, hash) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            listing.Append(hash).Append("  ").Append(name).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing.ToString())));
    }

    /// <summary>A hash shortened for messages: enough to tell two apart at a glance.</summary>
    public static string Short(string? hash) => hash is { Length: > 12 } ? hash[..12] + "…" : hash ?? "none";

    /// <summary>The first way <paramref name="local"/> differs from <paramref name="expected"/>, as a phrase naming the
    /// file ("file x differs from the job (local …, job …)"), or null when equal.</summary>
    public static string? FirstDifference(IReadOnlyDictionary<string, string> local, IReadOnlyDictionary<string, string> expected)
    {
        foreach (var name in local.Keys.Union(expected.Keys).Order(StringComparer.Ordinal))
        {
            bool here = local.TryGetValue(name, out var mine), there = expected.TryGetValue(name, out var theirs);
            if (!here) return $"file {name} is missing (the job has {Short(theirs)})";
            if (!there) return $"file {name} is extra (local {Short(mine)}; the job has no such file)";
            if (mine != theirs) return $"file {name} differs from the job (local {Short(mine)}, job {Short(theirs)})";
        }
        return null;
    }
}

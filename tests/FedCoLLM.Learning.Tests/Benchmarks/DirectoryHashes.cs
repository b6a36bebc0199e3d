using System.Security.Cryptography;

namespace FedCoLLM.Learning.Tests.Benchmarks;

/// <summary>Relative path → SHA-256 of every file under a directory: how the committed-data tests compare a fresh
/// generation with the committed files.</summary>
static class DirectoryHashes
{
    public static Dictionary<string, string> Of(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).ToDictionary(
            path => Path.GetRelativePath(root, path).Replace('\\', '/'),
            path => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))),
            StringComparer.Ordinal);
}

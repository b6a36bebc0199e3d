using System.Text;

namespace FedCoLLM.Benchmarks.WordNet;

/// <summary>
/// The WordNet 3.0 licence must accompany every copy of the database and of derived data; it is taken from
/// the "License: WordNet3.0" paragraph of Debian's machine-readable copyright file, or from any other file
/// (WordNet's own LICENSE) verbatim.
/// </summary>
public static class WordNetLicense
{
    public static string Extract(string copyrightFile)
    {
        if (!File.Exists(copyrightFile))
        {
            throw new FileNotFoundException($"WordNet copyright file not found at {copyrightFile} (installed by `apt-get install wordnet-base`)", copyrightFile);
        }

        var lines = File.ReadAllLines(copyrightFile);
        var start = Array.FindIndex(lines, line => line.StartsWith("License: WordNet", StringComparison.Ordinal));
        if (start < 0)
        {
            // Not a Debian copyright file: WordNet's own LICENSE, copied as it is (line endings normalised).
            return string.Concat(lines.Select(line => line + "\n"));
        }

        // Debian copyright format: continuation lines start with a space; " ." stands for an empty line.
        var text = new StringBuilder();
        for (var i = start + 1; i < lines.Length && lines[i].StartsWith(' '); i++)
        {
            text.Append(lines[i] == " ." ? "" : lines[i][1..]).Append('\n');
        }

        return text.ToString();
    }
}

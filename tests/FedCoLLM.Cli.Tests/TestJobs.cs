namespace FedCoLLM.Cli.Tests;

/// <summary>Job files for the tests: a shipped job plus lines that override its keys (HOCON: a later value wins).</summary>
static class TestJobs
{
    public static string QuickBase => Path.Combine(Repository.Root, "jobs", "wordnet-quick.conf");

    /// <summary>Writes <paramref name="dir"/>/<paramref name="name"/>.conf: the quick built-in job with <paramref name="lines"/>.</summary>
    public static string Write(string dir, string name, params string[] lines)
    {
        var path = Path.Combine(dir, name + ".conf");
        File.WriteAllText(path, File.ReadAllText(QuickBase) + "\n" + string.Join("\n", lines) + "\n");
        return path;
    }
}

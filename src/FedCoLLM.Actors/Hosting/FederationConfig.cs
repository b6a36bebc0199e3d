using Akka.Configuration;
using Akka.Persistence.Sql;

namespace FedCoLLM.Actors.Hosting;

/// <summary>
/// Builds a node's configuration from the files in hocon/ (the single place configuration lives) plus a
/// preamble of values only the host knows (run directory, ports). Also derives the "sharding" persistence
/// plugins from the configured SQL plugins, with their own tables, so remember-entities state never shares
/// a table with the round journal.
/// </summary>
public static class FederationConfig
{
    /// <summary>The directory holding the shipped *.conf files (copied next to the assembly).</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "hocon");

    public static Config Load(IEnumerable<string> files, string preamble = "")
    {
        var parts = new List<string> { preamble };
        foreach (var file in files)
        {
            var path = File.Exists(file) ? file : Path.Combine(DefaultDirectory, file);
            if (!File.Exists(path))
                throw new FileNotFoundException($"Configuration file \"{file}\" not found (looked in the working directory and {DefaultDirectory}); pass an existing .conf file or one of: {string.Join(", ", ShippedFiles())}.", file);
            parts.Add(File.ReadAllText(path));
        }
        Config config;
        try
        {
            config = ConfigurationFactory.ParseString(string.Join("\n", parts));
        }
        catch (Exception e)
        {
            throw new ArgumentException($"Configuration [{string.Join(", ", files)}] does not parse: {e.Message}", nameof(files), e);
        }
        return WithShardingPlugins(config.WithFallback(SqlPersistence.DefaultConfiguration));
    }

    static IEnumerable<string> ShippedFiles() =>
        Directory.Exists(DefaultDirectory) ? Directory.GetFiles(DefaultDirectory, "*.conf").Select(Path.GetFileName)!.Cast<string>() : [];

    // ToString(true) renders the plugin's keys including the library defaults it falls back to, but writes a
    // HOCON null as nothing, which would parse back as "" (an empty schema name breaks the SQL).
    static string Render(Config plugin) =>
        "{\n" + System.Text.RegularExpressions.Regex.Replace(plugin.ToString(true), @"(?m)^(\s*[\w.-]+) : \r?$", "$1 : null") + "\n}";

    static Config WithShardingPlugins(Config config)
    {
        if (!config.HasPath("akka.persistence.journal.sql.connection-string")) return config;
        var journal = Render(config.GetConfig("akka.persistence.journal.sql"));
        var snapshot = Render(config.GetConfig("akka.persistence.snapshot-store.sql"));
        var overrides = ConfigurationFactory.ParseString("""
            akka.persistence.journal.sharding {
              plugin-id = "akka.persistence.journal.sharding"
              default.journal.table-name = "sharding_journal"
              default.metadata.table-name = "sharding_journal_metadata"
              default.tag.table-name = "sharding_tags"
            }
            akka.persistence.snapshot-store.sharding {
              plugin-id = "akka.persistence.snapshot-store.sharding"
              default.snapshot.table-name = "sharding_snapshot"
            }
            """);
        var sharding = overrides
            .WithFallback(ConfigurationFactory.ParseString("akka.persistence.journal.sharding " + journal))
            .WithFallback(ConfigurationFactory.ParseString("akka.persistence.snapshot-store.sharding " + snapshot));
        return sharding.WithFallback(config);
    }
}

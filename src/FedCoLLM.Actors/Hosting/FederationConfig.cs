using Akka.Configuration;
using Akka.Persistence.Sql;
using FedCoLLM.Actors.Telemetry;

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

    /// <summary>The defaults of the <c>fedcollm.protocol</c> block, always loaded (<see cref="ProtocolTimeouts"/>).</summary>
    public const string ProtocolFile = "protocol.conf";

    public static Config Load(IEnumerable<string> files, string preamble = "")
    {
        // The protocol's defaults come first, so any file may override them.
        var parts = new List<string> { preamble, File.ReadAllText(Path.Combine(DefaultDirectory, ProtocolFile)) };
        foreach (var file in files)
        {
            var path = File.Exists(file) ? file : Path.Combine(DefaultDirectory, file);
            if (!File.Exists(path))
                throw new FileNotFoundException($"Configuration file \"{file}\" not found (looked in the working directory and {DefaultDirectory}); pass an existing .conf file or one of: {string.Join(", ", ShippedFiles())}.", file);
            var text = File.ReadAllText(path);
            // Akka's parser accepts an unclosed block and silently drops what follows: check the brackets first.
            HoconSyntax.Check(text, path);
            parts.Add(text);
        }
        parts.Insert(0, EnvironmentSubstitutions(parts, files));
        Config config;
        try
        {
            config = ConfigurationFactory.ParseString(string.Join("\n", parts));
        }
        catch (Exception e)
        {
            throw new ArgumentException($"Configuration [{string.Join(", ", files)}] does not parse: {e.Message}", nameof(files), e);
        }
        // The environment (a pod's or a lab namespace's) overrides the files: NodeEnvironment.
        return WithLogFormat(WithShardingPlugins(NodeEnvironment.Overrides().WithFallback(config).WithFallback(SqlPersistence.DefaultConfiguration)));
    }

    /// <summary>Every node is a cluster member with remoting and our serializers: a file list without them would start a
    /// node that waits in vain for a shard coordinator, so it is refused at once, naming what is missing and where the
    /// shipped files set it (--config replaces the default files rather than adding to them).</summary>
    /// <remarks>Not part of <see cref="Load"/>: tools that read a journal offline load serialization and persistence alone.</remarks>
    public static void RequireCluster(Config config, IEnumerable<string> files)
    {
        var list = string.Join(", ", files);
        (string Section, string Problem)? missing =
            !config.HasPath("akka.actor.provider") ? ("akka.actor", "has no akka.actor.provider (local.conf and cluster.conf set it to cluster)")
            : config.GetString("akka.actor.provider") is var p && p != "cluster" && !p.Contains("Cluster", StringComparison.Ordinal) ? ("akka.actor", $"sets akka.actor.provider = {p}; a federation node needs cluster")
            : !config.HasPath("akka.remote.dot-netty.tcp") ? ("akka.remote.dot-netty.tcp", "has no section akka.remote.dot-netty.tcp (the remoting hostname and port; local.conf and cluster.conf set it)")
            : !config.HasPath("akka.actor.serialization-bindings") ? ("akka.actor.serialization-bindings", "has no section akka.actor.serialization-bindings (serialization.conf holds the wire and journal serializers)")
            : null;
        if (missing is { } m)
            throw new ConfigFileException(list, 0, m.Section, $"Configuration [{list}] {m.Problem}. {ReplacesDefaults}");
    }

    const string ReplacesDefaults = "--config replaces the default files rather than adding to them: pass the shipped files too (fedcollm run: --config local.conf --config sharding.conf --config serialization.conf --config persistence-sqlite.conf --config yours.conf; fedcollm node: cluster.conf, sharding.conf, serialization.conf, persistence-postgres.conf, then yours), or leave --config out.";

    /// <summary>Refuses a configuration that lacks a journal plugin (a node that hosts job entities needs one).</summary>
    public static void RequireJournal(Config config, IEnumerable<string> files)
    {
        if (!config.HasPath("akka.persistence.journal.plugin") || string.IsNullOrWhiteSpace(config.GetString("akka.persistence.journal.plugin")))
            throw new ConfigFileException(string.Join(", ", files), 0, "akka.persistence.journal",
                $"Configuration [{string.Join(", ", files)}] has no akka.persistence.journal.plugin (the journal the job entities persist to; persistence-sqlite.conf or persistence-postgres.conf sets it). {ReplacesDefaults}");
    }

    /// <summary><c>fedcollm.log-format = json</c> (FEDCOLLM_LOG_FORMAT) swaps Akka's loggers for JSON lines on standard
    /// error (<see cref="JsonLogger"/>); "text", the default, leaves the configured loggers alone.</summary>
    static Config WithLogFormat(Config config) => config.GetString("fedcollm.log-format", "text") switch
    {
        "text" => config,
        "json" => ConfigurationFactory.ParseString(JsonLogger.Config).WithFallback(config),
        var other => throw new ArgumentException($"fedcollm.log-format = \"{other}\": expected json or text."),
    };

    /// <summary>Akka's HOCON parser does not read environment variables, so every <c>${FEDCOLLM_…}</c> substitution in
    /// the files is defined up front from the environment (e.g. FEDCOLLM_POSTGRES in persistence-postgres.conf), unless
    /// the preamble or a file defines it.</summary>
    static string EnvironmentSubstitutions(IEnumerable<string> texts, IEnumerable<string> files)
    {
        var all = texts.ToArray();
        var names = all.SelectMany(t => System.Text.RegularExpressions.Regex.Matches(t, @"\$\{\??(FEDCOLLM_[A-Z0-9_]+)\}").Select(m => m.Groups[1].Value))
            .Distinct().Order(StringComparer.Ordinal);
        var lines = new List<string>();
        foreach (var name in names)
        {
            // A file or the preamble may define the value itself (tests: a database per test class).
            if (all.Any(t => System.Text.RegularExpressions.Regex.IsMatch(t, $@"(?m)^\s*{name}\s*[=:]"))) continue;
            var value = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(value))
                throw new ArgumentException($"Configuration [{string.Join(", ", files)}] needs the environment variable {name}, which is not set" +
                    (name == "FEDCOLLM_POSTGRES" ? " (an Npgsql connection string, e.g. \"Host=127.0.0.1;Username=fedcollm;Password=…;Database=fedcollm\")." : "."), nameof(files));
            lines.Add($"{name} = \"{value.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"");
        }
        return string.Join("\n", lines);
    }

    static IEnumerable<string> ShippedFiles() =>
        Directory.Exists(DefaultDirectory) ? Directory.GetFiles(DefaultDirectory, "*.conf").Select(Path.GetFileName)!.Cast<string>() : [];

    // ToString(true) renders the plugin's keys including the library defaults it falls back to, but writes a
    // HOCON null as nothing, which would parse back as "" (an empty schema name breaks the SQL).
    // It also writes strings unquoted, which does not parse back when they hold '=' (a PostgreSQL connection string
    // without spaces), so the connection string is re-quoted.
    static string Render(Config plugin)
    {
        var text = System.Text.RegularExpressions.Regex.Replace(plugin.ToString(true), @"(?m)^(\s*[\w.-]+) : \r?$", "$1 : null");
        if (plugin.HasPath("connection-string"))
        {
            var quoted = "\"" + plugin.GetString("connection-string").Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
            text = System.Text.RegularExpressions.Regex.Replace(text, @"(?m)^(\s*connection-string) : .*$", m => m.Groups[1].Value + " : " + quoted);
        }
        return "{\n" + text + "\n}";
    }

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

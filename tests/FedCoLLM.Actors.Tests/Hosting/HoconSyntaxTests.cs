using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Strategies;
using FedCoLLM.Actors.Tests.Actors;

namespace FedCoLLM.Actors.Tests.Hosting;

/// <summary>Malformed HOCON (configuration and job files) is refused naming the file, the line and the block at fault;
/// every shipped file passes.</summary>
public class HoconSyntaxTests
{
    public static TheoryData<string> ShippedFiles =>
    [
        .. Directory.GetFiles(Path.Combine(Tiny.RepoRoot, "hocon"), "*.conf"),
        .. Directory.GetFiles(Path.Combine(Tiny.RepoRoot, "jobs"), "*.conf", SearchOption.AllDirectories),
    ];

    [Theory]
    [MemberData(nameof(ShippedFiles))]
    public void Every_shipped_file_passes(string path) => HoconSyntax.Check(File.ReadAllText(path), path);

    [Fact]
    public void A_block_whose_closing_brace_is_missing_is_named_by_indentation()
    {
        const string text = """
            akka {
              actor.provider = cluster
              cluster {
                roles = [server]
                min-nr-of-members = 1
              remote.dot-netty.tcp {
                port = 0
              }
            }
            """;
        var ex = Assert.Throws<ConfigFileException>(() => HoconSyntax.Check(text, "bad.conf"));
        Assert.Equal(("bad.conf", 3, "akka.cluster"), (ex.File, ex.Line, ex.Section));
        Assert.StartsWith("bad.conf:3: section akka.cluster {", ex.Message);
        Assert.Contains("line 9", ex.Message);
    }

    [Fact]
    public void A_file_that_ends_inside_a_block_names_the_innermost_block()
    {
        var ex = Assert.Throws<ConfigFileException>(() => HoconSyntax.Check("akka {\n  loglevel = INFO\n  actor {\n    provider = cluster\n", "x.conf"));
        Assert.Equal((3, "akka.actor"), (ex.Line, ex.Section));
        Assert.Contains("never closed", ex.Message);
    }

    [Theory]
    [InlineData("a = 1\n}\n", 2, "closes nothing")]
    [InlineData("a {\n  b = [1, 2}\n}\n", 2, "innermost open bracket")]
    [InlineData("a {\n  b = \"never closed\n}\n", 2, "quoted string")]
    [InlineData("a = ${b\n", 1, "substitution")]
    public void Other_bracket_and_quote_faults_name_their_line(string text, int line, string words)
    {
        var ex = Assert.Throws<ConfigFileException>(() => HoconSyntax.Check(text, "y.conf"));
        Assert.StartsWith($"y.conf:{line}:", ex.Message);
        Assert.Contains(words, ex.Message);
    }

    [Fact]
    public void Braces_inside_strings_comments_and_substitutions_do_not_count()
    {
        HoconSyntax.Check(""""
            # a comment with { and [
            // another }
            a { s = "x { y", t = ${a.s}, u = """multi
            line } ]""" }
            b = "Data Source="${fedcollm.sqlite-file}";x"
            """", "ok.conf");
    }

    [Fact]
    public void A_job_file_with_an_unclosed_block_is_refused_naming_the_file_and_block()
    {
        var ex = Assert.Throws<JobFileException>(() => JobFile.Parse("job {\n  id = x\n  lora {\n    slm { r = 4 }\n}\n", "my.conf", StrategyCatalog.Names));
        Assert.StartsWith("my.conf:", ex.Message);
        Assert.Contains("job", ex.Key);
    }

    [Fact]
    public void A_configuration_with_an_unclosed_block_is_refused_before_Akka_starts()
    {
        using var dir = new Blobs.TempDirectory();
        var path = Path.Combine(dir.Path, "bad.conf");
        File.WriteAllText(path, File.ReadAllText(Path.Combine(Tiny.RepoRoot, "hocon", "local.conf")).Replace("    failure-detector.acceptable-heartbeat-pause = 30s\n  }", "    failure-detector.acceptable-heartbeat-pause = 30s"));
        var ex = Assert.Throws<ConfigFileException>(() => FederationConfig.Load([path]));
        Assert.Equal((path, "akka.cluster"), (ex.File, ex.Section));
    }

    [Fact]
    public void A_configuration_without_the_cluster_sections_is_refused_naming_the_missing_one()
    {
        using var dir = new Blobs.TempDirectory();
        var path = Path.Combine(dir.Path, "thin.conf");
        File.WriteAllText(path, "akka.loglevel = INFO\n");
        var config = FederationConfig.Load([path]); // tools that read a journal offline load partial configurations
        var ex = Assert.Throws<ConfigFileException>(() => FederationConfig.RequireCluster(config, [path]));
        Assert.Contains("akka.actor.provider", ex.Message);
        Assert.Contains("--config replaces the default files", ex.Message);
    }
}

using System.Text.RegularExpressions;
using FedCoLLM.Actors.Jobs;

namespace FedCoLLM.Actors.Tests.Jobs;

/// <summary>The walk-through at the end of docs/jobs.md cannot rot: its job file must parse (with the GPT-2 fixture pair
/// and the ARC-style fixtures in place of the user's files, since parsing hashes them), and its commands must name
/// the job and the clients the file declares.</summary>
public sealed partial class JobsWalkThroughTests
{
    const string Heading = "## Walk-through: federate GPT-2 with distilgpt2 on your own ARC-style files";

    static string Fixture(string relative) => Path.Combine(Actors.Tiny.RepoRoot, "tests", "fixtures", relative);

    static string Section()
    {
        var doc = File.ReadAllText(Path.Combine(Actors.Tiny.RepoRoot, "docs", "jobs.md"));
        var start = doc.IndexOf(Heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/jobs.md has no section \"{Heading}\"");
        var next = doc.IndexOf("\n## ", start + Heading.Length, StringComparison.Ordinal);
        return next < 0 ? doc[start..] : doc[start..next];
    }

    static JobDefinition ParseWalkThroughJob(string section)
    {
        var job = HoconBlock().Match(section);
        Assert.True(job.Success, "the walk-through has no ```hocon block");
        var text = job.Groups[1].Value;
        // The user's files, quoted as the job file writes them, and the fixtures standing in for them.
        (string Written, string Fixture)[] files =
        [
            ("models/distilgpt2", Fixture("gpt2-slm")),
            ("models/gpt2", Fixture("gpt2-llm")),
            ("data/public.jsonl", Fixture("arc-style/public.jsonl")),
            ("data/eval/arc-challenge.jsonl", Fixture("arc-style/test.jsonl")),
        ];
        foreach (var (written, fixture) in files)
        {
            Assert.Contains($"\"{written}\"", text);
            text = text.Replace($"\"{written}\"", $"\"{fixture}\"", StringComparison.Ordinal);
        }
        return JobFile.Parse(text, "docs/jobs.md walk-through", JobFixture.Strategies);
    }

    [Fact]
    public void The_walk_through_job_file_parses_with_the_gpt2_fixture_pair_in_place_of_gpt2_and_distilgpt2()
    {
        var job = ParseWalkThroughJob(Section());

        Assert.Equal(("gpt2-arc", "fedcollm", 3), (job.Id, job.Strategy, job.Rounds));
        Assert.Equal(Fixture("gpt2-slm"), job.Models.Slm.Path);
        Assert.Equal(Fixture("gpt2-llm"), job.Models.Llm.Path);
        Assert.Equal(["acme", "globex"], job.Enrolled);
        Assert.Equal(["arc-challenge"], job.Evaluation.Sets.Select(s => s.Name));
    }

    [Fact]
    public void The_walk_through_commands_name_the_job_and_the_clients_of_its_job_file()
    {
        var section = Section();
        var job = ParseWalkThroughJob(section);

        var named = JobVerb().Matches(section).Select(m => m.Groups[1].Value).ToList();
        Assert.True(named.Count >= 6, $"expected status, watch and cancel in both forms, found {named.Count} job verbs");
        Assert.All(named, id => Assert.Equal(job.Id, id));
        Assert.Equal(job.Enrolled, ClientData().Matches(section).Select(m => m.Groups[1].Value).Distinct().Order(StringComparer.Ordinal));
        Assert.Contains($"slm/acc/{job.Evaluation.Sets[0].Name}", section);
        Assert.Contains($"runs/{job.Id}/{job.Id}/final/slm", section);
    }

    [GeneratedRegex(@"```hocon\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex HoconBlock();

    [GeneratedRegex(@"fedcollm (?:status|watch|cancel)\s+(\S+)")]
    private static partial Regex JobVerb();

    [GeneratedRegex(@"--data (\w+)=")]
    private static partial Regex ClientData();
}

using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli.Testing;
using Spectre.Console.Testing;

namespace FedCoLLM.Cli.Tests;

[Collection(ChildProcesses.Name)]
public class EvalCommandTests
{
    static CommandAppTester App()
    {
        var app = new CommandAppTester();
        app.Configure(CommandLine.Configure);
        return app;
    }

    /// <summary>Commands write through the static AnsiConsole; capture it (wide, so tables do not wrap).</summary>
    static TestConsole CaptureConsole()
    {
        var console = new TestConsole().Width(200);
        AnsiConsole.Console = console;
        return console;
    }

    [Fact]
    public void Eval_prints_accuracy_with_its_interval_for_the_built_in_slm()
    {
        var root = Repository.Root;
        var console = CaptureConsole();
        var result = App().Run("eval", "--model", Path.Combine(root, "models", "wordnet-slm"),
            "--prompt", Path.Combine(root, "data", "wordnet", "prompt.json"),
            "--data", Path.Combine(root, "data", "wordnet", "clients", "noun.body", "validation.jsonl"));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("200", console.Output);           // questions
        Assert.Matches(@"\[\d+\.\d, \d+\.\d\]", console.Output); // a 95 % interval, printed literally
    }

    /// <summary>The first <paramref name="count"/> questions of a client's validation split, copied to
    /// <paramref name="path"/>: enough for an eval that takes seconds.</summary>
    internal static string FewQuestions(string path, int count)
    {
        var source = Path.Combine(Repository.Root, "data", "wordnet", "clients", "noun.body", "validation.jsonl");
        File.WriteAllLines(path, File.ReadLines(source).Take(count));
        return path;
    }

    internal static string[] EvalArguments(params string[] data) =>
    [
        "eval", "--model", Path.Combine(Repository.Root, "models", "wordnet-slm"),
        "--prompt", Path.Combine(Repository.Root, "data", "wordnet", "prompt.json"),
        .. data.SelectMany(d => new[] { "--data", d }),
    ];

    [Fact]
    public async Task Eval_json_prints_one_object_with_the_accuracies_and_their_intervals_and_nothing_else()
    {
        using var dir = new TempDir();
        var data = FewQuestions(Path.Combine(dir.Path, "few.jsonl"), 20);

        var (code, stdout, stderr) = await Fedcollm.RunApart([.. EvalArguments(data), "--json"]);

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout); // throws on anything besides the one object
        var o = json.RootElement;
        Assert.Equal(Path.Combine(Repository.Root, "models", "wordnet-slm"), o.GetProperty("model").GetString());
        Assert.Equal(JsonValueKind.Null, o.GetProperty("adapter").ValueKind);
        Assert.Equal(data, o.GetProperty("data").GetString());
        Assert.Equal(20, o.GetProperty("n").GetInt32());
        foreach (var metric in new[] { "acc", "acc_norm" })
        {
            var value = o.GetProperty(metric).GetDouble();
            var ci = o.GetProperty(metric + "_ci95").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(Math.Round(value * 20), value * 20, 9); // a count out of 20 questions
            Assert.Equal(2, ci.Length);
            Assert.InRange(value, ci[0], ci[1]);
            Assert.True(ci[0] >= 0 && ci[1] <= 1 && ci[0] < ci[1], $"{metric} interval [{ci[0]}, {ci[1]}]");
        }
    }

    [Fact]
    public void Eval_json_with_several_data_files_is_refused()
    {
        var result = App().Run("eval", "--model", "somewhere", "--data", "a.jsonl", "--data", "b.jsonl", "--json");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--json prints one object", result.Output);
    }

    [Fact]
    public void Eval_without_data_says_which_option_is_missing()
    {
        var result = App().Run("eval", "--model", "somewhere");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--data is required", result.Output);
    }
}

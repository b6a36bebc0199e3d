using Spectre.Console;
using Spectre.Console.Cli.Testing;
using Spectre.Console.Testing;

namespace FedCoLLM.Cli.Tests;

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
    public void Eval_without_data_says_which_option_is_missing()
    {
        var result = App().Run("eval", "--model", "somewhere");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--data is required", result.Output);
    }
}

using System.Text.RegularExpressions;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// Output piped to a log must stay whole: Spectre lays tables out for 80 columns when stdout is not a terminal,
/// which wrapped or cropped cells and left box-drawing characters in the log. A real `fedcollm` child process
/// (stdout redirected) prints a table far wider than 80 columns.
/// </summary>
[Collection(ChildProcesses.Name)]
public class RedirectedOutputTests
{
    [Fact]
    public async Task A_table_wider_than_80_columns_is_printed_whole_in_ascii_when_stdout_is_redirected()
    {
        using var dir = new TempDir();
        // The data column holds the file's path: make it long enough that the table needs well over 80 columns.
        var data = EvalCommandTests.FewQuestions(Path.Combine(dir.Path, new string('q', 60) + "-validation-first-twenty.jsonl"), 20);

        var (code, stdout, stderr) = await Fedcollm.RunApart(EvalCommandTests.EvalArguments(data));

        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        var table = lines.Where(l => l.StartsWith('+') || l.StartsWith('|')).ToArray();
        Assert.True(table.Length >= 5, stdout); // top, header, rule, one row, bottom
        Assert.All(table, l => Assert.Equal(table[0].Length, l.Length));
        Assert.True(table[0].Length > 100, $"table is only {table[0].Length} columns wide:\n{stdout}");
        Assert.All(lines, l => Assert.True(l.All(char.IsAscii), $"not ASCII: {l}"));
        Assert.DoesNotContain("…", stdout);
        Assert.Contains(table, l => l.Contains("| acc_norm |") && Regex.IsMatch(l, @"\| 95% CI +\|$")); // the last column's header
        Assert.Contains(table, l => l.Contains($"| {data} |") && l.Contains("| 20 "));
    }
}

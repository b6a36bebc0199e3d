using Spectre.Console;
using Spectre.Console.Rendering;

namespace FedCoLLM.Cli;

/// <summary>
/// The one place the console is configured. Every command prints tables and markup through the static
/// <see cref="AnsiConsole"/>, and so does Spectre.Console.Cli's help, so installing the console there covers them all.
/// In a terminal it stays Spectre's own. With stdout redirected (a log file, a pipe, a test's child process) Spectre
/// would still lay everything out for 80 columns, wrapping or cropping table cells, and draw box-drawing characters;
/// there the console instead gets a width no table of ours reaches, ASCII tables, and no colour or cursor codes.
/// </summary>
public static class ConsoleOutput
{
    /// <summary>Wider than any table or line the CLI prints, so a redirected table is laid out at its natural width.</summary>
    const int RedirectedWidth = 4096;

    public static void Install()
    {
        if (!Console.IsOutputRedirected) return;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        console.Profile.Width = RedirectedWidth;
        console.Profile.Capabilities.Unicode = false; // "..." instead of "…", ASCII spinners and bars
        console.Pipeline.Attach(new PlainTables());
        AnsiConsole.Console = console;
    }

    /// <summary>Spectre keeps the default Square border even without Unicode (it counts as "safe"), and an expanded
    /// table would fill all <see cref="RedirectedWidth"/> columns; so every table is drawn in ASCII at its own width.</summary>
    sealed class PlainTables : IRenderHook
    {
        public IEnumerable<IRenderable> Process(RenderOptions options, IEnumerable<IRenderable> renderables) =>
            renderables.Select(r =>
            {
                if (r is Table table)
                {
                    table.Border = TableBorder.Ascii;
                    table.Expand = false;
                }
                return r;
            });
    }
}

using System.ComponentModel;
using System.Globalization;
using FedCoLLM.Benchmarks.Skills;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Data;

/// <summary><c>fedcollm data skills</c>: builds the federated skills benchmark (see data/skills/README.md).</summary>
public sealed class SkillsCommand : Command<SkillsCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--out <DIR>")]
        [Description("Output directory.")]
        [DefaultValue("data/skills")]
        public string Out { get; init; } = "data/skills";

        [CommandOption("--seed <S>")]
        [Description("Seed for every instance, split and answer position.")]
        [DefaultValue(SkillsBenchmarkOptions.DefaultSeed)]
        public int Seed { get; init; } = SkillsBenchmarkOptions.DefaultSeed;

        [CommandOption("--vocab-size <N>")]
        [Description("Tokenizer vocabulary size at most, including 256 byte tokens and <|endoftext|>.")]
        [DefaultValue(SkillsBenchmarkOptions.DefaultVocabularySize)]
        public int VocabSize { get; init; } = SkillsBenchmarkOptions.DefaultVocabularySize;

        public override ValidationResult Validate() =>
            VocabSize < 257
                ? ValidationResult.Error("--vocab-size must be at least 257 (256 byte tokens and <|endoftext|>)")
                : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var report = SkillsBenchmark.Generate(new SkillsBenchmarkOptions { Seed = settings.Seed, VocabularySize = settings.VocabSize }, settings.Out);
        var table = new Table().AddColumns("owner", "split").AddColumn(new TableColumn("size").RightAligned());
        foreach (var split in report.Splits)
            table.AddRow(Markup.Escape(split.Owner), split.Split, $"{split.Questions.ToString(CultureInfo.InvariantCulture)} questions");
        table.AddRow("all", "pre-training corpus", $"{report.CorpusLines.ToString(CultureInfo.InvariantCulture)} solved examples");
        table.AddRow("all", "tokenizer", $"{report.VocabularySize.ToString(CultureInfo.InvariantCulture)} tokens");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Wrote [bold]{Markup.Escape(settings.Out)}[/].");
        return 0;
    }
}

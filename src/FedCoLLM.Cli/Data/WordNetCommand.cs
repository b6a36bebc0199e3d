using System.ComponentModel;
using System.Globalization;
using FedCoLLM.Benchmarks.Tokenization;
using FedCoLLM.Benchmarks.WordNet;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Data;

/// <summary><c>fedcollm data wordnet</c>: builds the federated WordNet benchmark (see data/wordnet/README.md).</summary>
public sealed class WordNetCommand : Command<WordNetCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--source <DIR>")]
        [Description("WordNet 3.0 database directory (holds data.noun).")]
        [DefaultValue(WordNetBenchmarkOptions.DebianSourceDirectory)]
        public string Source { get; init; } = WordNetBenchmarkOptions.DebianSourceDirectory;

        [CommandOption("--license <FILE>")]
        [Description("WordNet licence: Debian's copyright file (its WordNet paragraph is extracted) or WordNet's own LICENSE file.")]
        [DefaultValue(WordNetBenchmarkOptions.DebianCopyrightFile)]
        public string License { get; init; } = WordNetBenchmarkOptions.DebianCopyrightFile;

        [CommandOption("--out <DIR>")]
        [Description("Output directory.")]
        [DefaultValue("data/wordnet")]
        public string Out { get; init; } = "data/wordnet";

        [CommandOption("--seed <S>")]
        [Description("Seed for splits, distractors and answer positions.")]
        [DefaultValue(WordNetBenchmarkOptions.DefaultSeed)]
        public int Seed { get; init; } = WordNetBenchmarkOptions.DefaultSeed;

        [CommandOption("--vocab-size <N>")]
        [Description("Tokenizer vocabulary size, including 256 byte tokens and <|endoftext|>.")]
        [DefaultValue(BytePairEncodingTrainer.DefaultVocabularySize)]
        public int VocabSize { get; init; } = BytePairEncodingTrainer.DefaultVocabularySize;

        public override ValidationResult Validate() =>
            VocabSize < 257
                ? ValidationResult.Error("--vocab-size must be at least 257 (256 byte tokens and <|endoftext|>)")
                : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var options = new WordNetBenchmarkOptions { SourceDirectory = settings.Source, CopyrightFile = settings.License, Seed = settings.Seed, VocabularySize = settings.VocabSize };
        var report = WordNetBenchmark.Generate(options, settings.Out);

        var table = new Table().AddColumns("owner", "split").AddColumn(new TableColumn("size").RightAligned());
        foreach (var split in report.Splits)
        {
            table.AddRow(Markup.Escape(split.Owner), split.Split, $"{split.Questions.ToString(CultureInfo.InvariantCulture)} questions");
        }

        table.AddRow("all", "pre-training corpus", $"{report.CorpusSentences.ToString(CultureInfo.InvariantCulture)} sentences");
        table.AddRow("all", "tokenizer", $"{report.VocabularySize.ToString(CultureInfo.InvariantCulture)} tokens");
        AnsiConsole.Write(table);

        var t = report.Timings;
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"Wrote [bold]{Markup.Escape(settings.Out)}[/] in {t.Total.TotalSeconds:F1} s (parse {t.Parse.TotalSeconds:F1}, questions {t.Questions.TotalSeconds:F1}, corpus {t.Corpus.TotalSeconds:F1}, tokenizer {t.Tokenizer.TotalSeconds:F1})."));
        return 0;
    }
}

using System.Globalization;
using System.Text;
using FedCoLLM.Benchmarks.MultipleChoice;
using FedCoLLM.Benchmarks.Tokenization;

namespace FedCoLLM.Benchmarks.Skills;

/// <summary>
/// Generates the federated skills benchmark into a directory (see the README it writes there):
/// <code>
/// clients/&lt;family&gt;/{train,validation,test}.jsonl   private data of one client per task family
/// public/train.jsonl                              the server's public set: every family, other instances
/// corpus/pretrain.txt                             solved examples of every family, for pre-training
/// tokenizer/{vocab.json,merges.txt}               byte-level BPE trained on the corpus, digits never merged
/// prompt.json, README.md
/// </code>
/// Every file holds different instances: each family draws one stream of distinct questions from the seed and cuts
/// it into test, validation, public share, client training set and corpus, in that order.
/// </summary>
public static class SkillsBenchmark
{
    public const string PromptTemplate = "{question}" + AnswerCue;
    public const string AnswerCue = " Answer:";
    public const string AnswerTemplate = " {answer}";
    public const string PromptFile = "prompt.json";

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static SkillsBenchmarkReport Generate(SkillsBenchmarkOptions options, string outputDirectory)
    {
        var sizes = options.Sizes;
        var counts = new List<SkillsSplitCount>();
        void Write(string relativePath, string owner, string split, IReadOnlyList<SkillItem> items)
        {
            var path = Path.Combine(outputDirectory, relativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            Ai2JsonlWriter.Write(path, items.Select(i => i.ToQuestion(options.Seed)));
            counts.Add(new SkillsSplitCount(owner, split, relativePath, items.Count));
        }

        var publicItems = new List<SkillItem>();
        var corpusItems = new List<SkillItem>();
        for (var f = 0; f < options.Families.Count; f++)
        {
            var family = options.Families[f];
            var stream = DistinctItems(family, new Random(unchecked(options.Seed * 7_919 + f * 104_729 + 1)));
            using var items = stream.GetEnumerator();
            List<SkillItem> Next(int n)
            {
                var taken = new List<SkillItem>(n);
                while (taken.Count < n && items.MoveNext()) taken.Add(items.Current);
                return taken;
            }

            var test = Next(sizes.TestPerClient);
            var validation = Next(sizes.ValidationPerClient);
            publicItems.AddRange(Next(sizes.PublicPerFamily));
            var train = Next(sizes.TrainPerClient);
            corpusItems.AddRange(Next(sizes.CorpusPerFamily));
            Write($"clients/{family.Name}/train.jsonl", family.Name, "train", train);
            Write($"clients/{family.Name}/validation.jsonl", family.Name, "validation", validation);
            Write($"clients/{family.Name}/test.jsonl", family.Name, "test", test);
        }

        // Families interleaved, so a public batch (and a pre-training window) mixes skills.
        var order = new Random(options.Seed);
        var publicSet = publicItems.ToArray();
        order.Shuffle(publicSet);
        Write("public/train.jsonl", "server", "public", publicSet);
        var corpusLines = corpusItems.Select(i => i.Solved).ToArray();
        order.Shuffle(corpusLines);
        var corpus = string.Concat(corpusLines.Select(line => line + "\n"));
        var corpusPath = Path.Combine(outputDirectory, "corpus", "pretrain.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(corpusPath)!);
        File.WriteAllText(corpusPath, corpus, Utf8);

        // Digits stay single tokens: a number's value is then spelled the same way in every context, which is what
        // lets a small model learn column arithmetic at all (merged digit pairs would each need learning).
        var preTokens = BytePairEncodingTrainer.CountPreTokens(corpus);
        foreach (var withDigit in preTokens.Keys.Where(k => k.Any(char.IsAsciiDigit)).ToList()) preTokens.Remove(withDigit);
        var tokenizer = BytePairEncodingTrainer.Train(preTokens, options.VocabularySize);
        tokenizer.Save(Path.Combine(outputDirectory, "tokenizer"));

        File.WriteAllText(Path.Combine(outputDirectory, PromptFile),
            $"{{\"prompt\": \"{PromptTemplate}\", \"answer\": \"{AnswerTemplate}\"}}\n", Utf8);
        File.WriteAllText(Path.Combine(outputDirectory, "README.md"), Readme(options, counts, corpusLines.Length, tokenizer), Utf8);
        return new SkillsBenchmarkReport(counts, corpusLines.Length, tokenizer.Tokens.Count);
    }

    /// <summary>The family's instances in draw order, each question at most once.</summary>
    private static IEnumerable<SkillItem> DistinctItems(SkillFamily family, Random random)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var misses = 0; misses < 100_000;)
        {
            var item = family.Draw(random);
            if (seen.Add(item.Question))
            {
                misses = 0;
                yield return item;
            }
            else misses++;
        }

        throw new InvalidOperationException($"family {family.Name} ran out of distinct questions; lower the sizes");
    }

    private static string Readme(SkillsBenchmarkOptions options, IReadOnlyList<SkillsSplitCount> counts, int corpusLines, BytePairEncoding tokenizer)
    {
        var s = options.Sizes;
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');
        string I(FormattableString f) => f.ToString(CultureInfo.InvariantCulture);
        Line("# Skills federated benchmark");
        Line();
        Line("Generated, with no outside source, by");
        Line();
        Line("```bash");
        Line(I($"dotnet run --project src/FedCoLLM.Cli -- data skills --seed {options.Seed} --vocab-size {options.VocabularySize}"));
        Line("```");
        Line();
        Line("The generator is deterministic: the same command reproduces every file byte for byte (a test checks this).");
        Line();
        Line("## Why a second benchmark");
        Line();
        Line("The WordNet benchmark tests memorised facts about synsets. Distillation on a public set cannot carry a fact the");
        Line("public set never mentions, so it cannot show the paper's main SLM claim in principle. Here the tested ability is");
        Line("a skill: every test item is a new instance, answerable only by having learned the skill, and the server's public");
        Line("set exercises every client's skill on other instances, so distillation can carry it.");
        Line();
        Line("## Task families (one client each)");
        Line();
        Line("| client | skill | example |");
        Line("|---|---|---|");
        var example = new Random(options.Seed);
        foreach (var family in options.Families)
        {
            var item = family.Draw(example);
            Line($"| {family.Name} | {family.Description} | \"{item.Question}\" → \"{item.Answer}\" |");
        }

        Line();
        Line("Items use the AI2 multiple-choice JSONL schema with four choices; the answer's position among A–D is uniformly");
        Line("random (drawn from the seed and the item, so an item reads the same in any file).");
        Line();
        Line("## Splits");
        Line();
        Line(I($"Each family draws one seeded stream of distinct questions and cuts it, in order, into test ({s.TestPerClient}), validation"));
        Line(I($"({s.ValidationPerClient}), its share of the public set ({s.PublicPerFamily}), the client's training set ({s.TrainPerClient}) and the pre-training corpus"));
        Line(I($"({s.CorpusPerFamily}). No question appears in two files, and none of the corpus's."));
        Line();
        Line("| owner | split | file | questions |");
        Line("|---|---|---|---:|");
        foreach (var c in counts) Line(I($"| {c.Owner} | {c.Split} | `{c.RelativePath}` | {c.Questions} |"));
        Line();
        Line("## Pre-training corpus and tokenizer");
        Line();
        Line(I($"`corpus/pretrain.txt` holds {corpusLines} solved examples, one per line, of every family, shuffled together, in"));
        Line("the prompt's own words: \"What is 347 + 85? Answer: 432\". The final answer alone, with no worked steps, because");
        Line("multiple-choice scoring reads the answer right after the cue.");
        Line();
        Line(I($"`tokenizer/` is a GPT-2-format byte-level BPE trained on the corpus: {tokenizer.Tokens.Count} tokens (256 bytes, {tokenizer.Merges.Count} merges,"));
        Line("`<|endoftext|>` last). No merge involves a digit, so every digit is its own token; spelled-out letters are single");
        Line("tokens too. Loadable by Microsoft.ML.Tokenizers' `CodeGenTokenizer.Create(vocab, merges)`.");
        Line();
        Line(I($"`{PromptFile}` gives the prompt: \"{PromptTemplate}\" with answer \"{AnswerTemplate}\"."));
        return text.ToString();
    }
}

/// <summary>Questions written to one file. <paramref name="Owner"/> is a family (client) or "server".</summary>
public sealed record SkillsSplitCount(string Owner, string Split, string RelativePath, int Questions);

public sealed record SkillsBenchmarkReport(IReadOnlyList<SkillsSplitCount> Splits, int CorpusLines, int VocabularySize);

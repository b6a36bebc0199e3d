using System.Diagnostics;
using System.Globalization;
using System.Text;
using FedCoLLM.Benchmarks.MultipleChoice;
using FedCoLLM.Benchmarks.Tokenization;

namespace FedCoLLM.Benchmarks.WordNet;

/// <summary>
/// Generates the federated WordNet benchmark into a directory:
/// <code>
/// clients/&lt;domain&gt;/{train,validation,test}.jsonl   private data of one client per lexicographer domain
/// public/train.jsonl                              the server's public set, all noun domains
/// corpus/pretrain.txt                             one factual sentence per line, every noun synset
/// tokenizer/{vocab.json,merges.txt}               GPT-2-format byte-level BPE trained on the corpus
/// README.md, LICENSE-WordNet
/// </code>
/// </summary>
public static class WordNetBenchmark
{
    public const string NounDataFile = "data.noun";

    /// <summary>The benchmark's prompt (written to prompt.json): a cloze in the corpus' own words, so a pre-trained
    /// model can answer zero-shot from what it memorised; "Question: … Answer:" is a format it has never read.</summary>
    public const string PromptTemplate = "The name for {question} is";
    public const string AnswerTemplate = " {answer}";
    public const string PromptFile = "prompt.json";

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static WordNetBenchmarkReport Generate(WordNetBenchmarkOptions options, string outputDirectory)
    {
        var clock = Stopwatch.StartNew();
        var dataFile = Path.Combine(options.SourceDirectory, NounDataFile);
        if (!File.Exists(dataFile))
        {
            throw new FileNotFoundException(
                $"WordNet 3.0 noun data not found at {dataFile}; install it with `apt-get install wordnet-base` or pass the database directory", dataFile);
        }

        var nouns = WordNetDataFile.Read(dataFile);
        var parsed = clock.Elapsed;

        var generator = new GlossQuestionGenerator(nouns);
        var split = FederatedSplit.Create(nouns.Where(generator.IsAskable), options.ClientDomains, options.Sizes, options.Seed);
        var counts = new List<SplitCount>();
        void WriteQuestions(string relativePath, string owner, string part, IReadOnlyList<Synset> synsets)
        {
            var path = Path.Combine(outputDirectory, relativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            Ai2JsonlWriter.Write(path, synsets.Select(s => generator.Generate(s, options.Seed)));
            counts.Add(new SplitCount(owner, part, relativePath, synsets.Count));
        }

        foreach (var client in split.Clients)
        {
            WriteQuestions($"clients/{client.Domain}/train.jsonl", client.Domain, "train", client.Train);
            WriteQuestions($"clients/{client.Domain}/validation.jsonl", client.Domain, "validation", client.Validation);
            WriteQuestions($"clients/{client.Domain}/test.jsonl", client.Domain, "test", client.Test);
        }

        WriteQuestions("public/train.jsonl", "server", "public", split.Public);
        var questionsWritten = clock.Elapsed;

        // The federation's world: every synset of the client domains and of the server's public set. Small models on
        // two CPU cores see all of it a few times within the pre-training budget, where all 82k noun synsets
        // would be read less than once — too little for any model to memorise facts.
        var publicOffsets = split.Public.Select(s => s.Offset).ToHashSet();
        var world = nouns.Where(s => options.ClientDomains.Contains(s.Domain) || publicOffsets.Contains(s.Offset)).ToList();
        var corpus = string.Concat(PretrainingCorpus.Sentences(world).Select(sentence => sentence + "\n"));
        File.WriteAllText(Path.Combine(outputDirectory, PromptFile),
            $"{{\"prompt\": \"{PromptTemplate}\", \"answer\": \"{AnswerTemplate}\"}}\n", Utf8);
        var corpusPath = Path.Combine(outputDirectory, "corpus", "pretrain.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(corpusPath)!);
        File.WriteAllText(corpusPath, corpus, Utf8);
        var corpusLines = corpus.Count(c => c == '\n');
        var corpusWritten = clock.Elapsed;

        var tokenizer = BytePairEncodingTrainer.Train(corpus, options.VocabularySize);
        tokenizer.Save(Path.Combine(outputDirectory, "tokenizer"));
        var tokenizerTrained = clock.Elapsed;

        var publicDomains = split.Public
            .GroupBy(s => s.Domain)
            .Select(g => (Domain: g.Key, Count: g.Count()))
            .OrderBy(d => d.Domain, StringComparer.Ordinal)
            .ToArray();
        File.WriteAllText(
            Path.Combine(outputDirectory, "LICENSE-WordNet"),
            WordNetLicense.Extract(options.CopyrightFile),
            Utf8);
        File.WriteAllText(
            Path.Combine(outputDirectory, "README.md"),
            Readme(options, counts, publicDomains, corpusLines, tokenizer),
            Utf8);

        return new WordNetBenchmarkReport(
            counts,
            corpusLines,
            tokenizer.Tokens.Count,
            tokenizer.Merges.Count,
            new GenerationTimings(parsed, questionsWritten - parsed, corpusWritten - questionsWritten, tokenizerTrained - corpusWritten, clock.Elapsed));
    }

    private static string Readme(
        WordNetBenchmarkOptions options,
        IReadOnlyList<SplitCount> counts,
        IReadOnlyList<(string Domain, int Count)> publicDomains,
        int corpusLines,
        BytePairEncoding tokenizer)
    {
        var sizes = options.Sizes;
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');
        Line("# WordNet federated benchmark");
        Line();
        Line("Generated from the WordNet 3.0 noun database (Debian package `wordnet-base`, `/usr/share/wordnet/data.noun`) by");
        Line();
        Line("```bash");
        Line(string.Create(CultureInfo.InvariantCulture, $"dotnet run --project src/FedCoLLM.Cli -- data wordnet --seed {options.Seed} --vocab-size {options.VocabularySize}"));
        Line("```");
        Line();
        Line("The generator is deterministic: the same command reproduces every file byte for byte (a test checks this).");
        Line();
        Line("## Task");
        Line();
        Line("Each item asks for the word that a WordNet gloss defines: the stem is the synset's definition (the gloss");
        Line("before any quoted example), the answer is the synset's first lemma, and three distractors are first lemmas of");
        Line("other synsets from the same lexicographer domain (never a lemma of the answer synset; no two choices alike).");
        Line("The answer's position among A–D is uniformly random. Synsets whose definition contains one of their own lemmas");
        Line("(the stem would give the answer away) or is shared with another synset (two right answers) are left out.");
        Line("Files use the AI2 multiple-choice JSONL schema:");
        Line();
        Line("```json");
        Line("{\"id\":\"wn-noun.animal-01234567\",\"question\":{\"stem\":\"…\",\"choices\":[{\"label\":\"A\",\"text\":\"…\"},…]},\"answerKey\":\"C\"}");
        Line("```");
        Line();
        Line("## Splits");
        Line();
        Line("One client per lexicographer domain. Each domain's askable synsets are shuffled; test and validation are cut");
        Line(string.Create(CultureInfo.InvariantCulture,
            $"first ({sizes.TestPerClient} and {sizes.ValidationPerClient}). The server's public set is then a uniform sample of {sizes.Public} askable synsets from"));
        Line("all noun domains (client domains included) minus those held out, and each client trains on the rest of its domain,");
        Line(string.Create(CultureInfo.InvariantCulture,
            $"capped at {sizes.TrainPerClient}, so clients differ in size. No synset appears in more than one file (questions are disjoint by synset;"));
        Line("a distractor may be another question's answer). A question about a synset is the same in every split it could land in.");
        Line();
        Line("\"Askable\" synsets have a definition that no other noun synset shares and that does not contain one of the");
        Line("synset's own lemmas.");
        Line();
        Line("| owner | split | file | questions |");
        Line("|---|---|---|---:|");
        foreach (var count in counts)
        {
            Line(string.Create(CultureInfo.InvariantCulture, $"| {count.Owner} | {count.Split} | `{count.RelativePath}` | {count.Questions} |"));
        }

        Line();
        Line("Public set by domain: " + string.Join(", ", publicDomains.Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.Domain} {d.Count}"))) + ".");
        Line();
        Line("## Pre-training corpus and tokenizer");
        Line();
        Line(string.Create(CultureInfo.InvariantCulture,
            $"`corpus/pretrain.txt` holds {corpusLines} sentences, one per line, about every noun synset of the client domains and"));
        Line("of the public set: its definition both ways round (\"A dog is a member of the genus Canis … .\", \"The name for a");
        Line("member of the genus Canis … is dog.\"), its other names and what it is a kind or an instance of. It is");
        Line("factual prose, not question/answer pairs; it does contain the definitions that test stems are made of, which is");
        Line("the point: a model answers the test from what it memorised in pre-training.");
        Line();
        Line(string.Create(CultureInfo.InvariantCulture,
            $"`tokenizer/` is a GPT-2-format byte-level BPE trained on the corpus: {tokenizer.Tokens.Count} tokens (256 bytes, {tokenizer.Merges.Count} merges,"));
        Line("`<|endoftext|>` last), loadable by Microsoft.ML.Tokenizers' `CodeGenTokenizer.Create(vocab, merges)`.");
        Line();
        Line(string.Create(CultureInfo.InvariantCulture, $"`{PromptFile}` gives the benchmark's prompt: \"{PromptTemplate}\" with answer \"{AnswerTemplate}\", a cloze"));
        Line("in the corpus' words (`fedcollm eval --prompt data/wordnet/prompt.json`).");
        Line();
        Line("## Licence");
        Line();
        Line("WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. The data here is derived from WordNet");
        Line("and is distributed under the WordNet 3.0 licence; see `LICENSE-WordNet`.");
        return text.ToString();
    }
}

/// <summary>Questions written to one file.</summary>
/// <param name="Owner">A client's domain, or "server".</param>
public sealed record SplitCount(string Owner, string Split, string RelativePath, int Questions);

public sealed record GenerationTimings(TimeSpan Parse, TimeSpan Questions, TimeSpan Corpus, TimeSpan Tokenizer, TimeSpan Total);

public sealed record WordNetBenchmarkReport(
    IReadOnlyList<SplitCount> Splits,
    int CorpusSentences,
    int VocabularySize,
    int Merges,
    GenerationTimings Timings);

using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Pretraining;
using FedCoLLM.Learning.Tokenization;

namespace FedCoLLM.Learning.Tests.Pretraining;

public class PretrainerTests
{
    static readonly PretrainPreset Tiny = new("tiny", Width: 16, Layers: 1, Heads: 2, Context: 16, BatchSize: 4, Steps: 6, LearningRate: 1e-2);

    static string WordNetTokenizer() => Path.Combine(Fixtures.RepositoryRoot(), "data", "wordnet", "tokenizer");

    [Fact]
    public void Packing_concatenates_lines_with_eos_and_cuts_equal_sequences()
    {
        var packed = CorpusPacking.Pack(["ab", "", "cde"], s => s.Select(c => (int)c).ToArray(), eosId: 0, sequenceLength: 3);
        Assert.Equal(2, packed.Count); // a b 0 | c d e | (0 dropped: incomplete)
        Assert.Equal(new TokenizedExample(['a'], ['b', 0]), packed[0], new ExampleComparer());
        Assert.Equal(new TokenizedExample(['c'], ['d', 'e']), packed[1], new ExampleComparer());
    }

    [Fact]
    public void Pretraining_writes_a_loadable_model_and_resumes_to_the_same_weights()
    {
        using var dir = new TempDirectory();
        var corpus = Path.Combine(dir.Path, "corpus.txt");
        File.WriteAllLines(corpus, Enumerable.Range(0, 60).Select(i => $"A thing number {i} is a kind of object."));

        var straight = Pretrainer.Run(Tiny, corpus, WordNetTokenizer(), Path.Combine(dir.Path, "straight"), seed: 3, Fixtures.Cpu, checkpointEvery: 2);
        var outDir = Path.Combine(dir.Path, "resumed");
        using var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => Pretrainer.Run(Tiny, corpus, WordNetTokenizer(), outDir, seed: 3, Fixtures.Cpu,
            checkpointEvery: 2, new Learning.Training.InlineProgress<Learning.Training.TrainingProgress>(p => { if (p.Step == 3) cts.Cancel(); }), cts.Token));
        Pretrainer.Run(Tiny, corpus, WordNetTokenizer(), outDir, seed: 3, Fixtures.Cpu, checkpointEvery: 2);

        Assert.Equal(File.ReadAllBytes(Path.Combine(straight.OutputDirectory, PretrainedModels.WeightsFile)),
                     File.ReadAllBytes(Path.Combine(outDir, PretrainedModels.WeightsFile)));
        Assert.False(Directory.Exists(Path.Combine(outDir, "checkpoint")));
        using var model = PretrainedModels.Load(outDir, Fixtures.Cpu);
        Assert.Equal(TokenizerFiles.Load(outDir).VocabSize, model.VocabSize);
        Assert.True(straight.Report.TailLoss < straight.Report.FirstLoss);
    }

    sealed class ExampleComparer : IEqualityComparer<TokenizedExample>
    {
        public bool Equals(TokenizedExample? x, TokenizedExample? y) =>
            x!.PromptIds.SequenceEqual(y!.PromptIds) && x.AnswerIds.SequenceEqual(y.AnswerIds);
        public int GetHashCode(TokenizedExample obj) => obj.Length;
    }
}

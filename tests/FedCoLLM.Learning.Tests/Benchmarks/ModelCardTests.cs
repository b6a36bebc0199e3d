using FedCoLLM.Benchmarks.ModelCards;

namespace FedCoLLM.Learning.Tests.Benchmarks;

public sealed class ModelCardTests
{
    [Fact]
    public void Card_states_command_seed_steps_time_and_accuracy_per_domain_and_plots_the_loss()
    {
        using var dir = new TempDirectory();
        var facts = new ModelCardFacts("wordnet-test", "GPT-2 (1 layer)", 128, "data/skills/corpus/pretrain.txt", 482, 8, 1234, "fedcollm pretrain --preset slm --seed 7", 7, 3, 600, 0.5, 1.25, 2,
            "AMD EPYC, 2 cores", "2026-11-25", [8.3, 6.1, 5.2], "(cloze)",
            [new DomainAccuracy("noun.animal", "test", 400, 0.4, 0.35, 0.45, 0.38), new DomainAccuracy("noun.plant", "test", 400, 0.3, 0.26, 0.35, 0.31)]);

        ModelCard.Write(dir.Path, facts);

        var card = File.ReadAllText(Path.Combine(dir.Path, "README.md"));
        Assert.Contains("fedcollm pretrain --preset slm --seed 7", card);
        Assert.Contains("| seed | 7 |", card);
        Assert.Contains("(batch 8 × 128 tokens)", card);
        Assert.Contains("`data/skills/corpus/pretrain.txt`", card);
        Assert.Contains("(482 tokens)", card);
        Assert.Contains("| noun.animal | test | 400 | 40.0 % | [35.0, 45.0] | 38.0 % |", card);
        Assert.Contains("| **mean** | test | 800 | 35.0 % |", card);
        Assert.Contains("8.300 → 5.200", card);
        var png = File.ReadAllBytes(Path.Combine(dir.Path, ModelCard.LossPlotFile));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
    }
}

using FedCoLLM.Benchmarks.WordNet;

namespace FedCoLLM.Learning.Tests.Benchmarks;

[Collection(InstalledWordNetCollection.Name)]
public sealed class FederatedSplitTests(InstalledWordNet wordNet)
{
    private static readonly WordNetBenchmarkOptions Defaults = new();

    private FederatedSplit DefaultSplit(int seed = WordNetBenchmarkOptions.DefaultSeed) =>
        FederatedSplit.Create(wordNet.Askable, Defaults.ClientDomains, Defaults.Sizes, seed);

    [Fact]
    public void Splits_are_disjoint_by_synset()
    {
        var split = DefaultSplit();
        var all = split.Clients.SelectMany(c => c.Train.Concat(c.Validation).Concat(c.Test)).Concat(split.Public).Select(s => s.Offset).ToArray();

        Assert.Equal(all.Length, all.Distinct().Count());
    }

    [Fact]
    public void Each_client_holds_only_its_own_domain_with_full_evaluation_sets_and_capped_training()
    {
        var split = DefaultSplit();

        Assert.Equal(Defaults.ClientDomains, split.Clients.Select(c => c.Domain));
        foreach (var client in split.Clients)
        {
            Assert.All(client.Train.Concat(client.Validation).Concat(client.Test), s => Assert.Equal(client.Domain, s.Domain));
            Assert.Equal(Defaults.Sizes.TestPerClient, client.Test.Count);
            Assert.Equal(Defaults.Sizes.ValidationPerClient, client.Validation.Count);
            Assert.InRange(client.Train.Count, 1, Defaults.Sizes.TrainPerClient);
        }

        Assert.True(split.Clients.Select(c => c.Train.Count).Distinct().Count() > 1, "client training sets should differ in size");
    }

    [Fact]
    public void Public_set_mixes_every_client_domain_with_the_other_noun_domains()
    {
        var split = DefaultSplit();
        var domains = split.Public.Select(s => s.Domain).ToHashSet();

        Assert.Equal(Defaults.Sizes.Public, split.Public.Count);
        Assert.Superset(Defaults.ClientDomains.ToHashSet(), domains);
        Assert.Contains("noun.artifact", domains);
        Assert.True(domains.Count > 20, $"public set covers only {domains.Count} domains");
    }

    [Fact]
    public void Split_is_reproducible_for_a_seed_and_differs_for_another()
    {
        static int[] Offsets(FederatedSplit split) => split.Clients[0].Test.Select(s => s.Offset).ToArray();

        Assert.Equal(Offsets(DefaultSplit()), Offsets(DefaultSplit()));
        Assert.NotEqual(Offsets(DefaultSplit()), Offsets(DefaultSplit(seed: 7)));
    }

    [Fact]
    public void Installed_noun_database_parses_completely()
    {
        Assert.Equal(82115, wordNet.Nouns.Count); // WordNet 3.0: 82,115 noun synsets
    }
}

namespace FedCoLLM.Benchmarks.WordNet;

/// <summary>How many questions each part of the benchmark holds at most.</summary>
/// <param name="TrainPerClient">Cap on a client's private training set; small domains get what is left after test and validation.</param>
/// <param name="ValidationPerClient">A client's validation set.</param>
/// <param name="TestPerClient">A client's held-out test set (filled first, so it is always full).</param>
/// <param name="Public">The server's public set, mixed over all noun domains.</param>
public sealed record SplitSizes(int TrainPerClient, int ValidationPerClient, int TestPerClient, int Public)
{
    /// <summary>Keeps the committed data small (≈12k questions) while every client has a usable training set.</summary>
    public static SplitSizes Default { get; } = new(TrainPerClient: 2000, ValidationPerClient: 200, TestPerClient: 400, Public: 2000);
}

/// <summary>One client's private data: synsets of one lexicographer domain.</summary>
public sealed record ClientSplit(
    string Domain,
    IReadOnlyList<Synset> Train,
    IReadOnlyList<Synset> Validation,
    IReadOnlyList<Synset> Test);

/// <summary>Client splits plus the server's public set; no synset appears twice anywhere.</summary>
public sealed record FederatedSplit(IReadOnlyList<ClientSplit> Clients, IReadOnlyList<Synset> Public)
{
    /// <summary>
    /// Splits askable synsets: each client domain is shuffled and its test and validation sets are cut first (a small
    /// domain loses training data, never evaluation data); then the public set is drawn uniformly from every askable
    /// noun synset not yet taken — client domains included, so the server sees all topics — and finally each client
    /// trains on what is left of its domain, up to the cap.
    /// </summary>
    public static FederatedSplit Create(IEnumerable<Synset> askable, IReadOnlyList<string> clientDomains, SplitSizes sizes, int seed)
    {
        if (clientDomains.Distinct(StringComparer.Ordinal).Count() != clientDomains.Count)
        {
            throw new ArgumentException("client domains must be distinct", nameof(clientDomains));
        }

        var candidates = askable.OrderBy(s => s.Offset).ToArray();
        var evaluation = sizes.TestPerClient + sizes.ValidationPerClient;
        var pools = new List<Synset[]>();
        foreach (var domain in clientDomains)
        {
            var number = LexicographerFiles.NumberOf(domain);
            var pool = candidates.Where(s => s.LexicographerFile == number).ToArray();
            if (pool.Length <= evaluation)
            {
                throw new InvalidOperationException(
                    $"{domain} has {pool.Length} askable synsets, not enough for {sizes.TestPerClient} test + {sizes.ValidationPerClient} validation + training");
            }

            Shuffle(pool, new Random(unchecked((seed * 31) + number)));
            pools.Add(pool);
        }

        var heldOut = pools.SelectMany(pool => pool[..evaluation]).Select(s => s.Offset).ToHashSet();
        var rest = candidates.Where(s => !heldOut.Contains(s.Offset)).ToArray();
        Shuffle(rest, new Random(unchecked((seed * 31) - 1)));
        var publicSet = rest[..Math.Min(rest.Length, sizes.Public)];
        var inPublic = publicSet.Select(s => s.Offset).ToHashSet();

        var clients = clientDomains.Select((domain, i) => new ClientSplit(
            domain,
            Train: pools[i][evaluation..].Where(s => !inPublic.Contains(s.Offset)).Take(sizes.TrainPerClient).ToArray(),
            Validation: pools[i][sizes.TestPerClient..evaluation],
            Test: pools[i][..sizes.TestPerClient])).ToArray();
        return new FederatedSplit(clients, publicSet);
    }

    private static void Shuffle<T>(T[] items, Random random)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}

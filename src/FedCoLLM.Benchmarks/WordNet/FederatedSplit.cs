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
    /// Splits askable synsets: each client domain is shuffled and cut into test, validation and train (in that
    /// order, so a small domain loses training data, never evaluation data); the public set is a uniform sample
    /// of every noun synset left over — client domains included — so the server sees all topics, but never a
    /// synset a client holds privately or is tested on.
    /// </summary>
    public static FederatedSplit Create(IEnumerable<Synset> askable, IReadOnlyList<string> clientDomains, SplitSizes sizes, int seed)
    {
        if (clientDomains.Distinct(StringComparer.Ordinal).Count() != clientDomains.Count)
        {
            throw new ArgumentException("client domains must be distinct", nameof(clientDomains));
        }

        var candidates = askable.OrderBy(s => s.Offset).ToArray();
        var taken = new HashSet<int>();
        var clients = new List<ClientSplit>();
        foreach (var domain in clientDomains)
        {
            var number = LexicographerFiles.NumberOf(domain);
            var pool = candidates.Where(s => s.LexicographerFile == number).ToArray();
            Shuffle(pool, new Random(unchecked((seed * 31) + number)));
            var evaluation = sizes.TestPerClient + sizes.ValidationPerClient;
            if (pool.Length <= evaluation)
            {
                throw new InvalidOperationException(
                    $"{domain} has {pool.Length} askable synsets, not enough for {sizes.TestPerClient} test + {sizes.ValidationPerClient} validation + training");
            }

            var test = pool[..sizes.TestPerClient];
            var validation = pool[sizes.TestPerClient..evaluation];
            var train = pool[evaluation..Math.Min(pool.Length, evaluation + sizes.TrainPerClient)];
            taken.UnionWith(test.Concat(validation).Concat(train).Select(s => s.Offset));
            clients.Add(new ClientSplit(domain, train, validation, test));
        }

        var rest = candidates.Where(s => !taken.Contains(s.Offset)).ToArray();
        Shuffle(rest, new Random(unchecked((seed * 31) - 1)));
        return new FederatedSplit(clients, rest[..Math.Min(rest.Length, sizes.Public)]);
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

namespace FedCoLLM.Learning.Data;

/// <summary>
/// Which examples share a batch (lists of dataset indices); <see cref="BatchBuilder"/> turns each into tensors.
/// Plans depend only on their arguments: randomness comes from a seeded <see cref="Random"/>, never global state.
/// </summary>
public static class BatchPlan
{
    /// <summary>
    /// Batches of examples of similar length, for passes whose outputs do not depend on the order (teacher passes,
    /// evaluation: each row is mapped back by <see cref="Batch.ExampleIndices"/>): indices sorted by length (stable, so
    /// equal lengths keep dataset order), then cut. A batch is padded to its longest row, so batches of mixed lengths
    /// computed about 2× the positions on the WordNet sets. The plan depends only on the lengths: outputs stay deterministic.
    /// </summary>
    public static IReadOnlyList<int[]> ByLength(IReadOnlyList<int> lengths, int batchSize)
    {
        RequireBatchSize(batchSize);
        var sorted = Enumerable.Range(0, lengths.Count).OrderBy(i => lengths[i]).ToArray(); // OrderBy is stable
        var plan = new List<int[]>();
        for (int start = 0; start < sorted.Length; start += batchSize)
            plan.Add(sorted[start..Math.Min(start + batchSize, sorted.Length)]);
        return plan;
    }

    /// <summary>
    /// Length-bucketed shuffled batches: shuffle all indices, cut them into pools of <paramref name="poolBatches"/>
    /// batches, sort each pool by length (stable), cut pools into batches, then shuffle the batch order. Batches hold
    /// examples of similar length (little padding) while every epoch/seed still mixes lengths and neighbours.
    /// </summary>
    public static IReadOnlyList<int[]> LengthBucketed(IReadOnlyList<int> lengths, int batchSize, int seed, int poolBatches = 32)
    {
        RequireBatchSize(batchSize);
        if (poolBatches < 1) throw new ArgumentOutOfRangeException(nameof(poolBatches), poolBatches, "must be at least 1.");
        var random = new Random(seed);
        var order = Enumerable.Range(0, lengths.Count).ToArray();
        random.Shuffle(order);

        var plan = new List<int[]>();
        int pool = batchSize * poolBatches;
        for (int start = 0; start < order.Length; start += pool)
        {
            var sorted = order.Skip(start).Take(pool).OrderBy(i => lengths[i]).ToArray(); // OrderBy is stable
            for (int b = 0; b < sorted.Length; b += batchSize)
                plan.Add(sorted[b..Math.Min(b + batchSize, sorted.Length)]);
        }
        var shuffled = plan.ToArray();
        random.Shuffle(shuffled);
        return shuffled;
    }

    private static void RequireBatchSize(int batchSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "must be at least 1.");
    }
}

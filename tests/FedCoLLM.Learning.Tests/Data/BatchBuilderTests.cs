using FedCoLLM.Learning.Data;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests.Data;

public class BatchBuilderTests
{
    private const long I = Batch.IgnoreIndex;

    private static readonly TokenizedExample[] Examples =
    [
        new([11, 12, 13], [14, 15]),
        new([21], [22]),
    ];

    private static long[] Row(Tensor t, int r) => t[r].data<long>().ToArray();

    [Fact]
    public void Pads_on_the_right_with_the_pad_id_and_masks_padding()
    {
        using var batch = new BatchBuilder(PadId: 99).Build(Examples, [0, 1]);
        Assert.Equal(new long[] { 2, 5 }, batch.InputIds.shape);
        Assert.Equal(new long[] { 11, 12, 13, 14, 15 }, Row(batch.InputIds, 0));
        Assert.Equal(new long[] { 21, 22, 99, 99, 99 }, Row(batch.InputIds, 1));
        Assert.Equal(new long[] { 1, 1, 0, 0, 0 }, Row(batch.AttentionMask, 1));
        Assert.Equal(new[] { 0, 1 }, batch.ExampleIndices);
    }

    [Fact]
    public void Labels_are_answer_ids_unshifted_with_minus_100_on_prompt_and_padding()
    {
        using var batch = new BatchBuilder(PadId: 0).Build(Examples, [1, 0]);
        Assert.Equal(new long[] { I, 22, I, I, I }, Row(batch.Labels, 0));
        Assert.Equal(new long[] { I, I, I, 14, 15 }, Row(batch.Labels, 1));
        Assert.Equal(new[] { 1, 0 }, batch.ExampleIndices);
    }

    [Fact]
    public void Max_length_cuts_the_prompt_from_the_left_and_keeps_the_answer()
    {
        using var batch = new BatchBuilder(PadId: 0, MaxLength: 3).Build(Examples, [0]);
        Assert.Equal(new long[] { 13, 14, 15 }, Row(batch.InputIds, 0));
        Assert.Equal(new long[] { I, 14, 15 }, Row(batch.Labels, 0));
    }

    [Fact]
    public void An_answer_that_leaves_no_room_for_a_prompt_token_is_an_error()
    {
        var e = Assert.Throws<ArgumentException>(() => new BatchBuilder(PadId: 0, MaxLength: 2).Build(Examples, [0]));
        Assert.Contains("Example 0", e.Message);
        Assert.Contains("MaxLength = 2", e.Message);
    }

    [Fact]
    public void By_length_plan_covers_every_example_once_shortest_first_and_keeps_dataset_order_among_equals()
    {
        var plan = BatchPlan.ByLength([9, 3, 7, 3, 12, 1, 7], 3);
        Assert.Equal(new[] { new[] { 5, 1, 3 }, new[] { 2, 6, 0 }, new[] { 4 } }, plan);
    }

    private static int[] Lengths(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => r.Next(5, 200)).ToArray();
    }

    [Fact]
    public void Length_bucketed_plan_is_a_permutation_of_all_examples()
    {
        var plan = BatchPlan.LengthBucketed(Lengths(1000, 1), batchSize: 16, seed: 3);
        Assert.Equal(Enumerable.Range(0, 1000), plan.SelectMany(b => b).Order());
        Assert.All(plan, b => Assert.InRange(b.Length, 1, 16));
    }

    [Fact]
    public void Length_bucketed_plan_is_deterministic_for_a_seed_and_differs_across_seeds()
    {
        var lengths = Lengths(500, 2);
        Assert.Equal(BatchPlan.LengthBucketed(lengths, 8, seed: 5), BatchPlan.LengthBucketed(lengths, 8, seed: 5));
        Assert.NotEqual(BatchPlan.LengthBucketed(lengths, 8, seed: 5), BatchPlan.LengthBucketed(lengths, 8, seed: 6));
    }

    [Fact]
    public void Length_bucketing_cuts_padding_against_random_batches()
    {
        var lengths = Lengths(2048, 4);
        long Padding(IEnumerable<int[]> plan) => plan.Sum(b => (long)b.Length * b.Max(i => lengths[i]) - b.Sum(i => lengths[i]));
        var shuffled = Enumerable.Range(0, 2048).ToArray();
        new Random(9).Shuffle(shuffled);
        var random = shuffled.Chunk(16);
        Assert.True(Padding(BatchPlan.LengthBucketed(lengths, 16, seed: 1)) * 5 < Padding(random));
    }
}

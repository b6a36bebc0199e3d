using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Losses;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests.Losses;

public class TopKTeacherTests
{
    private static readonly TokenizedExample[] Examples =
    [
        new([1, 2], [3, 4, 5]),
        new([6, 7, 8], [9]),
        new([10], [11, 12]),
    ];

    private static Batch MakeBatch() => new BatchBuilder(PadId: 0).Build(Examples, [0, 1, 2]);

    [Fact]
    public void Extract_returns_the_largest_logits_and_their_ids_in_descending_order()
    {
        var logits = tensor(new[] { 0.1f, 3f, -1f, 2f, /**/ 5f, 4f, 6f, 0f }, [2, 4]);
        var (idx, tl) = TopKTeacher.Extract(logits, 2);
        Assert.Equal(ScalarType.Int32, idx.dtype);
        Assert.Equal(ScalarType.Float32, tl.dtype);
        Assert.Equal(new[] { 1, 3, 2, 0 }, idx.data<int>().ToArray());
        Assert.Equal(new[] { 3f, 2f, 6f, 5f }, tl.data<float>().ToArray());
    }

    [Fact]
    public void Split_then_assemble_round_trips_a_batch_of_teacher_rows()
    {
        using var batch = MakeBatch();
        int n = AnswerPositions.CountPerRow(batch.Labels).Sum();
        Assert.Equal(6, n);
        var (idx, tl) = TopKTeacher.Extract(randn(n, 20, generator: new Generator(4)), 3);

        var perExample = TopKTeacher.Split(idx, tl, batch.Labels);
        Assert.Equal(new[] { 3, 1, 2 }, perExample.Select(t => t.Rows));

        var (idx2, tl2) = TopKTeacher.Assemble(perExample, batch);
        Assert.Equal(idx.data<int>().ToArray(), idx2.data<int>().ToArray());
        Assert.Equal(tl.data<float>().ToArray(), tl2.data<float>().ToArray());
    }

    [Fact]
    public void Each_example_has_as_many_teacher_rows_as_answer_tokens_in_any_batch()
    {
        using var alone = new BatchBuilder(0).Build(Examples, [2]);
        using var together = MakeBatch();
        Assert.Equal(Examples[2].AnswerIds.Length, AnswerPositions.CountPerRow(alone.Labels)[0]);
        Assert.Equal(Examples.Select(e => e.AnswerIds.Length), AnswerPositions.CountPerRow(together.Labels));
    }

    [Fact]
    public void Assemble_rejects_a_teacher_record_with_the_wrong_row_count_naming_the_example()
    {
        using var batch = MakeBatch();
        var records = new[]
        {
            new TeacherTopK(2, new int[6], new float[6]),
            new TeacherTopK(2, new int[4], new float[4]), // example 1 has one answer position, not two
            new TeacherTopK(2, new int[4], new float[4]),
        };
        var e = Assert.Throws<ArgumentException>(() => TopKTeacher.Assemble(records, batch));
        Assert.Contains("batch row 1 (example 1)", e.Message);
        Assert.Contains("2 rows but the example has 1 answer positions", e.Message);
    }

    [Fact]
    public void Split_rejects_tensors_whose_row_count_differs_from_the_batch()
    {
        using var batch = MakeBatch();
        var e = Assert.Throws<ArgumentException>(() => TopKTeacher.Split(zeros([5, 3], ScalarType.Int32), zeros(5, 3), batch.Labels));
        Assert.Contains("5 rows but the batch has 6 answer positions", e.Message);
    }
}

using FedCoLLM.Learning.Data;

namespace FedCoLLM.Learning.Tests.Data;

public class MultipleChoiceJsonlTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static IReadOnlyList<MultipleChoiceItem> Parse(string jsonl) => MultipleChoiceJsonl.Parse(new StringReader(jsonl), "inline.jsonl");

    [Fact]
    public void Loads_the_AI2_ARC_schema_and_skips_blank_lines()
    {
        var items = MultipleChoiceJsonl.Load(Fixture("arc_ai2.jsonl"));
        Assert.Equal(2, items.Count);
        Assert.Equal("Mercury_7175875", items[0].Id);
        Assert.StartsWith("An astronomer observes", items[0].Question);
        Assert.Equal(4, items[0].Choices.Count);
        Assert.Equal(2, items[0].AnswerIndex);
        Assert.Equal("Planetary days will become shorter.", items[0].Answer.Text);
    }

    [Fact]
    public void Numeric_answer_keys_match_numeric_labels()
    {
        var items = MultipleChoiceJsonl.Load(Fixture("arc_ai2.jsonl"));
        Assert.Equal(new Choice("2", "grams"), items[1].Answer);
    }

    [Fact]
    public void Loads_the_Hugging_Face_flattened_schema()
    {
        var item = Assert.Single(MultipleChoiceJsonl.Load(Fixture("arc_hf.jsonl")));
        Assert.Equal("dry palms", item.Answer.Text);
        Assert.Equal(new[] { "A", "B", "C", "D" }, item.Choices.Select(c => c.Label));
    }

    [Fact]
    public void Loads_OpenBookQA_with_a_top_level_question_stem()
    {
        var item = Assert.Single(MultipleChoiceJsonl.Load(Fixture("openbookqa_hf.jsonl")));
        Assert.Equal("The sun is responsible for", item.Question);
        Assert.Equal(3, item.AnswerIndex);
    }

    [Fact]
    public void Loads_CommonsenseQA_in_the_AI2_schema_with_five_choices()
    {
        var item = Assert.Single(MultipleChoiceJsonl.Load(Fixture("commonsenseqa_ai2.jsonl")));
        Assert.Equal(5, item.Choices.Count);
        Assert.Equal("ignore", item.Answer.Text);
    }

    [Fact]
    public void Answer_key_not_among_the_labels_is_reported_with_file_line_and_field()
    {
        var path = Fixture("bad_answer_key.jsonl");
        var e = Assert.Throws<MultipleChoiceFormatException>(() => MultipleChoiceJsonl.Load(path));
        Assert.Equal((path, 2, "answerKey"), (e.File, e.Line, e.Field));
        Assert.Contains($"{path}:2: field 'answerKey'", e.Message);
    }

    [Fact]
    public void Unknown_schema_is_reported_naming_the_question_field()
    {
        var e = Assert.Throws<MultipleChoiceFormatException>(() => MultipleChoiceJsonl.Load(Fixture("unknown_schema.jsonl")));
        Assert.Equal((1, "question"), (e.Line, e.Field));
        Assert.Contains("unknown schema", e.Message);
    }

    [Theory]
    [InlineData("{\"question\": \"q\", \"choices\": {\"text\": [\"a\",\"b\"], \"label\": [\"A\",\"B\"]}, \"answerKey\": \"A\"}", "id")]
    [InlineData("{\"id\": \"1\", \"question\": \"q\", \"choices\": {\"text\": [\"a\"], \"label\": [\"A\",\"B\"]}, \"answerKey\": \"A\"}", "choices")]
    [InlineData("{\"id\": \"1\", \"question\": \"q\", \"choices\": {\"text\": [\"a\",\"b\"], \"label\": [\"A\",\"B\"]}}", "answerKey")]
    [InlineData("{\"id\": \"1\", \"question\": {\"choices\": []}, \"answerKey\": \"A\"}", "question.stem")]
    [InlineData("{\"id\": \"1\", \"question\": {\"stem\": \"q\", \"choices\": [{\"label\": \"A\"}, {\"label\": \"B\", \"text\": \"b\"}]}, \"answerKey\": \"A\"}", "choices[0].text")]
    [InlineData("{not json", "(line)")]
    public void Malformed_lines_name_the_offending_field(string line, string field)
    {
        var e = Assert.Throws<MultipleChoiceFormatException>(() => Parse("\n" + line));
        Assert.Equal(("inline.jsonl", 2, field), (e.File, e.Line, e.Field));
    }
}

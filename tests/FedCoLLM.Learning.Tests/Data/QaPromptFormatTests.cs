using FedCoLLM.Learning.Data;

namespace FedCoLLM.Learning.Tests.Data;

public class QaPromptFormatTests
{
    private static readonly MultipleChoiceItem Item = new("q1", "Which is a metal?", [new("A", "wood"), new("B", "iron")], 1);

    // A stand-in tokenizer: one id per character, so the test can read what went where.
    private static int[] Chars(string s) => s.Select(c => (int)c).ToArray();

    [Fact]
    public void Default_format_is_lm_eval_harness_ARC_style()
    {
        Assert.Equal("Question: Which is a metal?\nAnswer:", QaPromptFormat.Default.Prompt(Item));
        Assert.Equal(" iron", QaPromptFormat.Default.Answer(Item, 1));
    }

    [Fact]
    public void Training_example_is_the_prompt_then_the_correct_answer()
    {
        var e = QaPromptFormat.Default.TrainingExample(Item, Chars);
        Assert.Equal(Chars("Question: Which is a metal?\nAnswer:"), e.PromptIds);
        Assert.Equal(Chars(" iron"), e.AnswerIds);
    }

    [Fact]
    public void Every_choice_can_be_tokenized_for_scoring()
    {
        Assert.Equal(Chars(" wood"), QaPromptFormat.Default.Tokenize(Item, 0, Chars).AnswerIds);
        Assert.Throws<ArgumentOutOfRangeException>(() => QaPromptFormat.Default.Tokenize(Item, 2, Chars));
    }
}

using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Tokenization;

namespace FedCoLLM.Learning.Tests.Data;

public class QaPromptFormatTests
{
    private static readonly MultipleChoiceItem Item = new("q1", "Which is a metal?", [new("A", "wood"), new("B", "iron")], 1);

    // GPT-2 byte-level BPE: the joint encoding splits into exactly the prompt's and the answer's own ids.
    private static readonly TextTokenizer Gpt2 = TokenizerFiles.Load(Fixtures.Fixture("gpt2-slm"));

    [Fact]
    public void Default_format_is_lm_eval_harness_ARC_style()
    {
        Assert.Equal("Question: Which is a metal?\nAnswer:", QaPromptFormat.Default.Prompt(Item));
        Assert.Equal(" iron", QaPromptFormat.Default.Answer(Item, 1));
    }

    [Fact]
    public void Training_example_is_the_prompt_then_the_correct_answer()
    {
        var e = QaPromptFormat.Default.TrainingExample(Item, Gpt2);
        Assert.Equal(Gpt2.Encode("Question: Which is a metal?\nAnswer:"), e.PromptIds);
        Assert.Equal(Gpt2.Encode(" iron"), e.AnswerIds);
    }

    [Fact]
    public void Every_choice_can_be_tokenized_for_scoring()
    {
        Assert.Equal(Gpt2.Encode(" wood"), QaPromptFormat.Default.Tokenize(Item, 0, Gpt2).AnswerIds);
        Assert.Throws<ArgumentOutOfRangeException>(() => QaPromptFormat.Default.Tokenize(Item, 2, Gpt2));
    }
}

namespace FedCoLLM.Learning.Data;

/// <summary>One answer option of a multiple-choice question: its label ("A", "1", …) and text.</summary>
public sealed record Choice(string Label, string Text);

/// <summary>A multiple-choice question (ARC, OpenBookQA, CommonsenseQA): the correct option is Choices[AnswerIndex].</summary>
public sealed record MultipleChoiceItem(string Id, string Question, IReadOnlyList<Choice> Choices, int AnswerIndex)
{
    public Choice Answer => Choices[AnswerIndex];
}

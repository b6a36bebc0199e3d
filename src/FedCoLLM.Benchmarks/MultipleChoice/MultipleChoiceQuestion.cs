namespace FedCoLLM.Benchmarks.MultipleChoice;

/// <summary>A multiple-choice item in the AI2 (ARC / OpenBookQA) shape, as every built-in benchmark writes it.</summary>
/// <param name="Id">Unique across the whole benchmark (e.g. "wn-{domain}-{synset offset}", "sk-{family}-{hash}").</param>
/// <param name="Stem">The question text.</param>
/// <param name="Choices">Labelled answer options, in label order.</param>
/// <param name="AnswerKey">The label of the correct choice.</param>
public sealed record MultipleChoiceQuestion(
    string Id,
    string Stem,
    IReadOnlyList<AnswerChoice> Choices,
    string AnswerKey)
{
    public static readonly string[] Labels = ["A", "B", "C", "D"];

    public string AnswerText => Choices.Single(c => c.Label == AnswerKey).Text;
}

public sealed record AnswerChoice(string Label, string Text);

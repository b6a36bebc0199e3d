namespace FedCoLLM.Benchmarks.WordNet;

/// <summary>A multiple-choice item in the AI2 (ARC / OpenBookQA) shape.</summary>
/// <param name="Id">Unique across the whole benchmark; for WordNet items "wn-{domain}-{synset offset}".</param>
/// <param name="Stem">The question text.</param>
/// <param name="Choices">Labelled answer options, in label order.</param>
/// <param name="AnswerKey">The label of the correct choice.</param>
/// <param name="SynsetOffset">The synset the question is about; splits are disjoint in it. Not written to JSONL.</param>
public sealed record MultipleChoiceQuestion(
    string Id,
    string Stem,
    IReadOnlyList<AnswerChoice> Choices,
    string AnswerKey,
    int SynsetOffset)
{
    public string AnswerText => Choices.Single(c => c.Label == AnswerKey).Text;
}

public sealed record AnswerChoice(string Label, string Text);

namespace FedCoLLM.Learning.Data;

/// <summary>One supervised example: the model reads Prompt ⊕ Answer and learns only the answer tokens.</summary>
public sealed record TokenizedExample(int[] PromptIds, int[] AnswerIds)
{
    public int Length => PromptIds.Length + AnswerIds.Length;
}

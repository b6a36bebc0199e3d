namespace FedCoLLM.Learning.Losses;

/// <summary>
/// A teacher's top-k next-token logits for ONE example, kept sparse: one row per answer-prediction
/// position (the positions j whose next token j + 1 is an answer token, in ascending order), k columns.
/// Memory is O(rows·k) instead of O(rows·V). Indices and logits are row-major [Rows, K].
/// </summary>
public sealed record TeacherTopK(int K, int[] Indices, float[] Logits)
{
    public int Rows => K == 0 ? 0 : Indices.Length / K;
}

using static TorchSharp.torch;

namespace FedCoLLM.Learning.Data;

/// <summary>
/// A right-padded batch. <see cref="Labels"/> follows Hugging Face: the token id at answer tokens and
/// -100 at prompt and padding tokens, NOT shifted (logits at position j predict labels at j + 1).
/// <see cref="ExampleIndices"/> maps each row back to the dataset, in row order.
/// </summary>
public sealed record Batch(Tensor InputIds, Tensor AttentionMask, Tensor Labels, int[] ExampleIndices) : IDisposable
{
    public const long IgnoreIndex = -100;

    public long Rows => InputIds.shape[0];
    public long Length => InputIds.shape[1];

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        Labels.Dispose();
    }
}

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

    /// <summary>The same batch on <paramref name="device"/>; returns this batch when it is already there.</summary>
    public Batch To(Device device)
    {
        if (InputIds.device_type == device.type && InputIds.device_index == device.index) return this;
        var moved = new Batch(InputIds.to(device), AttentionMask.to(device), Labels.to(device), ExampleIndices);
        Dispose();
        return moved;
    }

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        Labels.Dispose();
    }
}

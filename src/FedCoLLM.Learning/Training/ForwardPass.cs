using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Models;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Training;

/// <summary>
/// One batch through a model's blocks, stopped before the LM head: the final hidden states [B, T, H] and the head.
/// Losses select the rows they read (<see cref="AnswerRows"/>) and apply the head to those alone, fused with the
/// loss (<see cref="FusedHeadLoss"/>) or densely; <see cref="Logits"/> is the full [B, T, V] for pre-training.
/// </summary>
public sealed record ForwardPass(Batch Batch, Tensor HiddenStates, LanguageModelHead Head)
{
    /// <summary>Hidden states at the answer-prediction positions, [N, H], in the <see cref="AnswerPositions"/> contract order.</summary>
    public Tensor AnswerRows() => AnswerPositions.Select(HiddenStates, Batch.Labels);

    /// <summary>The head's operands for the answer rows, for a fused loss.</summary>
    public HeadOperands AnswerHead() => Head.Operands(AnswerRows());

    /// <summary>The token each answer position predicts, int64 [N], on the hidden states' device.</summary>
    public Tensor Targets() => AnswerPositions.Targets(Batch.Labels).to(HiddenStates.device);

    /// <summary>Dense logits [N, V] of the answer rows only (evaluation, teacher pass).</summary>
    public Tensor AnswerLogits() => Head.Logits(AnswerRows());

    /// <summary>Dense logits [B, T, V] at every position: pre-training, where every position is a target.</summary>
    public Tensor Logits() => Head.Logits(HiddenStates);
}

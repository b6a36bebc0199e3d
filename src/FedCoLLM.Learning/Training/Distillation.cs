using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Models;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Training;

/// <summary>
/// One direction of FedCoLLM's mutual distillation on the public set (LLM → SLM, then SLM → LLM):
/// the student minimises CE on the public labels plus λ·KL(p_teacher ‖ q_student) on the teacher's
/// stored top-k logits (fedcollm.md §1.4; the KD term keeps its gradient, unlike FATE-LLM's B7).
/// </summary>
public static class Distillation
{
    public static TrainingReport Train(
        string phase,
        CausalLanguageModel student,
        IReadOnlyList<TokenizedExample> examples,
        IReadOnlyList<TeacherTopK> teacher,
        TrainingSettings settings,
        DistillationSettings distillation,
        ComputeOptions compute,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellation = default,
        TrainingCheckpoints? checkpoints = null)
    {
        distillation.Validate();
        if (teacher.Count != examples.Count)
            throw new ArgumentException($"{phase}: {teacher.Count} teacher entries for {examples.Count} examples; extract the teacher logits on the same public set.", nameof(teacher));
        return TrainingLoop.Run(phase, student, examples, settings, compute, pass =>
        {
            // λ = 0: the teacher is never read, the step is plain answer-token SFT on the public set.
            if (distillation.Lambda == 0) return SupervisedFineTuning.AnswerLoss(pass);
            var device = pass.HiddenStates.device;
            var (indices, teacherLogits) = TopKTeacher.Assemble(pass.Batch.ExampleIndices.Select(i => teacher[i]).ToList(), pass.Batch);
            // KD only: the gold answers' CE is left out, the student learns from the teacher's logits alone.
            if (!distillation.PublicCrossEntropy)
                return FusedHeadLoss.Distillation(pass.AnswerHead(), indices.to(device), teacherLogits.to(device), distillation.Kd).mul(distillation.Lambda);
            // CE + λ·KD from one chunked pass of the LM head over the answer rows.
            return FusedHeadLoss.CrossEntropyPlusDistillation(pass.AnswerHead(), pass.Targets(),
                indices.to(device), teacherLogits.to(device), distillation.Kd, distillation.Lambda);
        }, progress, cancellation, checkpoints);
    }
}

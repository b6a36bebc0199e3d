using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Training;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests.Training;

/// <summary>
/// The production losses select answer rows from the hidden states and apply the LM head (fused with the loss) to
/// those alone. On the committed reference models — GPT-2 (tied head), LLaMA with a separate lm_head that carries
/// LoRA, LLaMA tied — the loss and every LoRA gradient equal the old path (full [B, T, V] logits, then select,
/// then the dense loss) to float32 rounding (rtol 1e-4, atol 1e-6 on gradients; 1e-5 on the loss).
/// </summary>
public class AnswerRowHeadTests
{
    static (CausalLanguageModel Model, LoraAdapter Adapter) Model(string name)
    {
        var model = PretrainedModels.Load(Fixtures.Reference(name), Fixtures.Cpu);
        var targets = LoraConfig.DefaultTargets(model.Config.ModelType).ToList();
        if (name == "llama-tiny") targets.Add("lm_head");   // its head is a separate Projection: LoRA on the head too
        var adapter = LoraAdapter.Apply(model, new LoraConfig(4, 8, 0, targets), seed: 3);
        // B = 0 at initialisation would make every A gradient zero; give B values so both get checked.
        using (no_grad())
        {
            var g = new Generator(9);
            foreach (var (name_, p) in adapter.NamedParameters())
                if (name_.EndsWith(".lora_B.weight")) p.copy_(randn(p.shape, generator: g).mul_(0.05));
        }
        model.eval();
        return (model, adapter);
    }

    static Batch Batch(IReadOnlyList<TokenizedExample> examples) =>
        new BatchBuilder(PadId: 0, 32).Build(examples, Enumerable.Range(0, examples.Count).ToArray());

    static (double Loss, Tensor[] Grads) LossAndGrads(LoraAdapter adapter, Func<Tensor> loss)
    {
        var parameters = adapter.TrainableParameters().Cast<Tensor>().ToArray();
        var l = loss();
        var grads = autograd.grad([l], parameters);
        return (l.item<float>(), grads.ToArray());
    }

    static void AssertSame((double Loss, Tensor[] Grads) dense, (double Loss, Tensor[] Grads) fused, LoraAdapter adapter)
    {
        Assert.Equal(dense.Loss, fused.Loss, 5);
        var names = adapter.NamedParameters().Select(p => p.Name).ToArray();
        for (int i = 0; i < names.Length; i++)
        {
            Assert.True(dense.Grads[i].abs().max().item<float>() > 0, $"{names[i]}: the check needs a nonzero gradient");
            Assert.True(fused.Grads[i].allclose(dense.Grads[i], rtol: 1e-4, atol: 1e-6),
                $"{names[i]}: max |Δ| = {(fused.Grads[i] - dense.Grads[i]).abs().max().item<float>():G3}");
        }
    }

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("llama-tiny")]
    [InlineData("llama-tiny-tied-bias")]
    public void Sft_loss_on_answer_rows_equals_the_full_logits_path_with_its_gradients(string name)
    {
        var (model, adapter) = Model(name);
        using var batch = Batch(TinyTask.Examples(6));
        var dense = LossAndGrads(adapter, () => AnswerCrossEntropy.Mean(model.forward(batch.InputIds, batch.AttentionMask), batch.Labels));
        var fused = LossAndGrads(adapter, () => SupervisedFineTuning.AnswerLoss(
            new ForwardPass(batch, model.HiddenStates(batch.InputIds, batch.AttentionMask), model.Head)));
        AssertSame(dense, fused, adapter);
    }

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("llama-tiny")]
    public void Distillation_loss_on_answer_rows_equals_the_full_logits_path_with_its_gradients(string name)
    {
        var (model, adapter) = Model(name);
        var examples = TinyTask.Examples(6);
        // A teacher with the student's vocabulary but other weights: the other LLaMA for LLaMA, a re-drawn GPT-2 head.
        var (teacher, _) = Model(name == "llama-tiny" ? "llama-tiny-tied-bias" : name);
        if (name == "gpt2-tiny")
            using (no_grad())
                foreach (var (n, p) in teacher.named_parameters())
                    if (n == "transformer.wte.weight") p.add_(randn(p.shape, generator: new Generator(4)).mul_(0.5));
        var top = TeacherPass.Extract(teacher, examples, topK: 7, batchSize: 4, maxLength: 32, Fixtures.Cpu);
        using var batch = Batch(examples);
        var (idx, tl) = TopKTeacher.Assemble(top, batch);
        var kd = new DistillationOptions(Temperature: 2, TopK: 7, ScaleByTemperatureSquared: true);
        var dense = LossAndGrads(adapter, () =>
        {
            var logits = model.forward(batch.InputIds, batch.AttentionMask);
            return AnswerCrossEntropy.Mean(logits, batch.Labels)
                 + 0.5 * new TopKDistillationLoss(kd).Compute(AnswerPositions.Select(logits, batch.Labels), idx, tl);
        });
        var fused = LossAndGrads(adapter, () =>
        {
            var pass = new ForwardPass(batch, model.HiddenStates(batch.InputIds, batch.AttentionMask), model.Head);
            return FusedHeadLoss.CrossEntropyPlusDistillation(pass.AnswerHead(), pass.Targets(), idx, tl, kd, 0.5);
        });
        AssertSame(dense, fused, adapter);
    }

    [Fact]
    public void A_lora_head_gives_the_same_logits_through_its_operands_as_through_its_forward()
    {
        var (model, _) = Model("llama-tiny");
        using var _g = no_grad();
        using var batch = Batch(TinyTask.Examples(3));
        var rows = AnswerPositions.Select(model.HiddenStates(batch.InputIds, batch.AttentionMask), batch.Labels);
        var op = model.Head.Operands(rows);
        Assert.NotNull(op.LowRankInput);
        var viaOperands = rows.mm(op.Weight.t()) + op.LowRankScale * op.LowRankInput!.mm(op.LowRankWeight!.t());
        var viaForward = AnswerPositions.Select(model.forward(batch.InputIds, batch.AttentionMask), batch.Labels);
        Assert.True(viaOperands.allclose(viaForward, rtol: 1e-5, atol: 1e-5));
    }
}

using System.Diagnostics;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Losses;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FedCoLLM.Cli.Bench;

/// <summary>
/// `fedcollm bench train-step --parts`, our side: the LoRA SFT step of <see cref="TrainingLoop"/> (the same calls:
/// batch, <see cref="CausalLanguageModel.HiddenStates"/>, <see cref="SupervisedFineTuning.AnswerLoss"/>, backward, clipping,
/// AdamW) replayed with a stopwatch between its parts. The backward is split in two by cutting the graph at the hidden
/// states (a detached copy feeds the head): first the head's share (for our fused head its gradient is already computed in
/// the forward, so this is the multiplication by the upstream gradient), then the transformer body's. pytorch_train_step.py
/// --parts splits its step at the same places, so the two sides' parts line up.
/// </summary>
static class SftStepParts
{
    public static readonly string[] Names = ["batch", "body_forward", "head_loss_forward", "head_backward", "body_backward", "clip_adamw"];

    /// <summary>Our head + loss forward further split by the fused loop's own profile (<see cref="FusedHeadProfile"/>); the
    /// rest (selecting the answer rows, checking the targets, the autograd node) is <c>head_other</c>. Not in PyTorch's.</summary>
    public static readonly string[] HeadNames = ["head_logit_matmul", "head_softmax", "head_gathers_scatters", "head_gradient_matmuls", "head_other"];

    /// <summary>Median seconds of each part in <see cref="Names"/> and <see cref="HeadNames"/> over <paramref name="steps"/> steps after <paramref name="warmup"/>.</summary>
    public static Dictionary<string, double> Measure(int vocab, int layers, int width, int heads, int batchSize, int seq, int loraRank,
        int threads, int warmup, int steps, bool huggingFaceInit)
    {
        var compute = new ComputeOptions("cpu", threads, Seed: 0);
        compute.Apply();
        using var model = new Gpt2Model(new Gpt2Config(vocab, seq, width, layers, heads, EmbdPdrop: 0, AttnPdrop: 0, ResidPdrop: 0));
        if (huggingFaceInit) model.InitializeForPretraining();
        var adapter = LoraAdapter.Apply(model, LoraConfig.ForModelType("gpt2", loraRank, alpha: 16, dropout: 0), seed: 0);
        var trainable = adapter.TrainableParameters();
        var o = new OptimizerSettings { LearningRate = 1e-4 };
        using var optimizer = optim.AdamW(trainable, o.LearningRate, o.Beta1, o.Beta2, o.Epsilon, o.WeightDecay);
        var examples = RandomSftExamples.Make(batchSize * (warmup + steps), seq, vocab);
        var builder = new BatchBuilder(PadId: 0, seq);
        model.train();
        var all = Names.Concat(HeadNames).ToArray();
        var times = all.Select(_ => new List<double>()).ToArray();
        for (int step = 0; step < warmup + steps; step++)
        {
            var t = new double[all.Length];
            var profile = new FusedHeadProfile();
            var clock = Stopwatch.StartNew();
            double Lap() { double s = clock.Elapsed.TotalSeconds; clock.Restart(); return s; }
            optimizer.zero_grad();
            using (NewDisposeScope())
            {
                var batch = builder.Build(examples, Enumerable.Range(step * batchSize, batchSize).ToArray());
                t[0] = Lap();
                var hidden = model.HiddenStates(batch.InputIds, batch.AttentionMask);
                t[1] = Lap();
                var cut = hidden.detach().requires_grad_();
                // SupervisedFineTuning.AnswerLoss with the fused loop's profile switched on.
                var pass = new ForwardPass(batch, cut, model.Head);
                var loss = FusedHeadLoss.CrossEntropy(pass.AnswerHead(), pass.Targets(), FusedHeadOptions.Default with { Profile = profile });
                loss.item<float>();
                t[2] = Lap();
                loss.backward();
                t[3] = Lap();
                hidden.backward([cut.grad!]);
                t[4] = Lap();
            }
            if (o.MaxGradNorm > 0) nn.utils.clip_grad_norm_(trainable, o.MaxGradNorm);
            optimizer.step();
            t[5] = Lap();
            double[] head = [profile.LogitMatmuls.TotalSeconds, profile.Softmax.TotalSeconds, profile.GathersAndScatters.TotalSeconds, profile.GradientMatmuls.TotalSeconds];
            head.CopyTo(t, Names.Length);
            t[^1] = t[2] - head.Sum();
            if (step >= warmup)
                for (int i = 0; i < t.Length; i++) times[i].Add(t[i]);
        }
        return all.Select((name, i) => (name, Statistics.Median(times[i]))).ToDictionary(x => x.name, x => x.Item2);
    }
}

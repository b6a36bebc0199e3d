using FedCoLLM.Learning.Lora;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests.Lora;

public class LoraAdapterTests
{
    [Fact]
    public void Lora_with_zero_B_reproduces_the_base_output_exactly()
    {
        using var model = ToyModel.Create();
        using var x = ToyModel.Input();
        using var before = model.forward(x);
        LoraAdapter.Apply(model, ToyModel.Config(), seed: 5);
        using var after = model.forward(x);
        Assert.True(after.eq(before).all().item<bool>(), "LoRA with B = 0 changed the output.");
    }

    [Theory]
    [InlineData("c_attn")] // Conv1D layout, W [in, out]
    [InlineData("q_proj")] // Linear layout, W [out, in]
    [InlineData("c_proj", "k_proj", "v_proj", "o_proj")]
    public void Merged_and_unmerged_forward_agree_after_B_is_randomized(params string[] targets)
    {
        using var model = ToyModel.Create();
        using var x = ToyModel.Input();
        using var baseOut = model.forward(x);
        var adapter = LoraAdapter.Apply(model, ToyModel.Config(targets), seed: 5);
        ToyModel.RandomizeB(adapter);

        using var unmerged = model.forward(x);
        Assert.False(unmerged.allclose(baseOut, rtol: 0, atol: 1e-3), "randomized B should change the output");
        adapter.MergeAll();
        Assert.True(adapter.IsMerged);
        using var merged = model.forward(x);
        Assert.True(merged.allclose(unmerged, rtol: 0, atol: 1e-5), $"max |merged - unmerged| = {(merged - unmerged).abs().max().item<float>()}");
        adapter.UnmergeAll();
        using var restored = model.forward(x);
        Assert.True(restored.allclose(unmerged, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void After_apply_only_lora_matrices_require_grad()
    {
        using var model = ToyModel.Create();
        LoraAdapter.Apply(model, ToyModel.Config("c_attn", "q_proj"), seed: 5);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).Order(StringComparer.Ordinal);
        Assert.Equal(
        [
            "model.layers.0.self_attn.q_proj.lora_A.weight",
            "model.layers.0.self_attn.q_proj.lora_B.weight",
            "transformer.h.0.attn.c_attn.lora_A.weight",
            "transformer.h.0.attn.c_attn.lora_B.weight",
        ], trainable);
    }

    [Fact]
    public void After_backward_only_lora_matrices_have_gradients()
    {
        using var model = ToyModel.Create();
        var adapter = LoraAdapter.Apply(model, ToyModel.Config(), seed: 5);
        ToyModel.RandomizeB(adapter);
        model.train();
        using var x = ToyModel.Input();
        using var loss = model.forward(x).square().sum();
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
        {
            bool isLora = name.Contains(".lora_A.") || name.Contains(".lora_B.");
            if (isLora)
            {
                Assert.True(p.grad is not null, $"{name} got no gradient");
                Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{name} got an all-zero gradient");
            }
            else Assert.True(p.grad is null, $"frozen parameter {name} got a gradient");
        }
    }

    [Fact]
    public void Parameter_count_reports_lora_matrices_as_the_only_trainable_ones()
    {
        using var model = ToyModel.Create();
        long baseTotal = model.parameters().Sum(p => p.numel());
        var adapter = LoraAdapter.Apply(model, ToyModel.Config("c_attn", "q_proj"), seed: 5);
        // c_attn: A [2, 8] + B [24, 2]; q_proj: A [2, 8] + B [8, 2].
        long lora = 16 + 48 + 16 + 16;
        Assert.Equal(new ParameterCount(lora, baseTotal + lora), adapter.CountParameters());
        Assert.Equal(lora, adapter.Export().ParameterCount);
    }

    [Fact]
    public void Same_seed_gives_identical_adapter_bytes()
    {
        using var m1 = ToyModel.Create(seed: 1);
        using var m2 = ToyModel.Create(seed: 2); // base weights and global RNG state differ; A must not
        manual_seed(999);
        var a1 = LoraAdapter.Apply(m1, ToyModel.Config(), seed: 5).Export().ToBytes();
        var a2 = LoraAdapter.Apply(m2, ToyModel.Config(), seed: 5).Export().ToBytes();
        Assert.Equal(a1, a2);
        using var m3 = ToyModel.Create(seed: 1);
        var a3 = LoraAdapter.Apply(m3, ToyModel.Config(), seed: 6).Export().ToBytes();
        Assert.NotEqual(a1, a3);
    }

    [Fact]
    public void Lora_A_is_drawn_from_kaiming_uniform_bounds()
    {
        using var model = ToyModel.Create();
        var adapter = LoraAdapter.Apply(model, ToyModel.Config(), seed: 5);
        double bound = 1 / Math.Sqrt(ToyModel.Hidden);
        foreach (var t in adapter.Export().Tensors)
            if (t.Name.EndsWith(".lora_A.weight")) Assert.All(t.Values, v => Assert.InRange(v, -bound, bound));
            else Assert.All(t.Values, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Targets_match_module_names_and_dotted_suffixes_as_peft_does()
    {
        var config = ToyModel.Config("attn.c_attn", "q_proj");
        Assert.True(config.Matches("transformer.h.0.attn.c_attn"));
        Assert.True(config.Matches("q_proj"));
        Assert.True(config.Matches("model.layers.0.self_attn.q_proj"));
        Assert.False(config.Matches("transformer.h.0.attn.c_attn2"));
        Assert.False(config.Matches("transformer.h.0.xattn.c_attn"));
        Assert.False(config.Matches("model.layers.0.self_attn.xq_proj"));
    }

    [Fact]
    public void Targets_matching_no_module_are_rejected_with_available_names()
    {
        using var model = ToyModel.Create();
        var ex = Assert.Throws<ArgumentException>(() => LoraAdapter.Apply(model, ToyModel.Config("query_key_value"), seed: 5));
        Assert.Contains("query_key_value", ex.Message);
        Assert.Contains("transformer.h.0.attn.c_attn", ex.Message);
        Assert.Contains("model.layers.0.self_attn.q_proj", ex.Message);
    }

    [Fact]
    public void Applying_lora_twice_is_rejected()
    {
        using var model = ToyModel.Create();
        LoraAdapter.Apply(model, ToyModel.Config("c_attn"), seed: 5);
        var ex = Assert.Throws<InvalidOperationException>(() => LoraAdapter.Apply(model, ToyModel.Config("c_attn"), seed: 5));
        Assert.Contains("transformer.h.0.attn.c_attn", ex.Message);
    }

    [Theory]
    [InlineData(0, 16, 0.0, "Rank")]
    [InlineData(8, 0, 0.0, "Alpha")]
    [InlineData(8, -1, 0.0, "Alpha")]
    [InlineData(8, 16, 1.0, "Dropout")]
    [InlineData(8, 16, -0.1, "Dropout")]
    [InlineData(8, 16, double.NaN, "Dropout")]
    public void Config_validation_names_the_invalid_field(int rank, double alpha, double dropout, string field)
    {
        var ex = Assert.Throws<ArgumentException>(() => new LoraConfig(rank, alpha, dropout, ["q_proj"]).Validate());
        Assert.Equal(field, ex.ParamName);
        Assert.Contains($"LoraConfig.{field}", ex.Message);
    }

    [Fact]
    public void Config_validation_rejects_empty_targets()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LoraConfig(8, 16, 0, []).Validate());
        Assert.Contains("TargetModules", ex.Message);
    }

    [Fact]
    public void Default_targets_follow_peft_for_gpt2_and_llama()
    {
        Assert.Equal(["c_attn"], LoraConfig.DefaultTargets("gpt2"));
        Assert.Equal(["q_proj", "k_proj", "v_proj", "o_proj"], LoraConfig.DefaultTargets("llama"));
        Assert.Throws<ArgumentException>(() => LoraConfig.DefaultTargets("bert"));
    }

    [Fact]
    public void Configs_with_the_same_targets_in_any_order_are_equal()
    {
        Assert.Equal(new LoraConfig(8, 16, 0.05, ["q_proj", "v_proj"]), new LoraConfig(8, 16, 0.05, ["v_proj", "q_proj", "q_proj"]));
    }
}

using System.Text.Json.Nodes;
using FedCoLLM.Learning.Checkpoints;
using FedCoLLM.Learning.Models;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests;

public class CheckpointTests
{
    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("llama-tiny")]
    [InlineData("llama-tiny-tied-bias")]
    public void Save_then_load_preserves_every_tensor_bit_for_bit_and_the_logits(string name)
    {
        using var original = PretrainedModels.Load(Fixtures.Reference(name), Fixtures.Cpu);
        using var dir = new TempDirectory();
        PretrainedModels.Save(original, dir.Path);
        using var reloaded = PretrainedModels.Load(dir.Path, Fixtures.Cpu);

        Assert.Equal(original.Config, reloaded.Config);
        var before = original.state_dict();
        var after = reloaded.state_dict();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (key, tensor) in before)
            Assert.True(Fixtures.BitEqual(tensor, after[key]), $"{key} changed in the round trip");

        var golden = Fixtures.Golden(name);
        using var a = Fixtures.Logits(original, golden["input_ids"], golden["attention_mask"]);
        using var b = Fixtures.Logits(reloaded, golden["input_ids"], golden["attention_mask"]);
        Assert.True(Fixtures.BitEqual(a, b));
    }

    [Fact]
    public void Saved_gpt2_checkpoint_omits_the_tied_lm_head_and_declares_its_architecture()
    {
        using var model = PretrainedModels.Load(Fixtures.Reference("gpt2-tiny"), Fixtures.Cpu);
        using var dir = new TempDirectory();
        PretrainedModels.Save(model, dir.Path);

        var header = SafeTensors.ReadHeader(Path.Combine(dir.Path, "model.safetensors"));
        Assert.DoesNotContain(header.Entries, e => e.Name == "lm_head.weight");
        Assert.Contains(header.Entries, e => e.Name == "transformer.wte.weight");
        Assert.Equal("pt", header.Metadata["format"]);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))!;
        Assert.Equal("gpt2", config["model_type"]!.GetValue<string>());
        Assert.Equal("GPT2LMHeadModel", config["architectures"]![0]!.GetValue<string>());
        Assert.Equal(32, config["n_embd"]!.GetValue<int>());
    }

    [Fact]
    public void Safetensors_round_trip_is_bit_exact_for_every_dtype_and_keeps_metadata()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "mixed.safetensors");
        var tensors = new Dictionary<string, Tensor>
        {
            ["f32"] = randn(3, 5),
            ["f16"] = randn(4, 2).to(ScalarType.Float16),
            ["bf16"] = randn(7).to(ScalarType.BFloat16),
            ["i32"] = randint(-1000, 1000, [2, 3], dtype: ScalarType.Int32),
            ["i64"] = arange(6).view(2, 3),
            ["scalar"] = tensor(3.5f),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["round"] = "7" };
        SafeTensors.Save(path, tensors, metadata);

        var loaded = SafeTensors.Load(path);
        Assert.Equal(tensors.Keys.Order(), loaded.Keys.Order());
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.dtype, loaded[name].dtype);
            Assert.Equal(t.shape, loaded[name].shape);
            Assert.True(Fixtures.BitEqual(t, loaded[name]), name);
        }
        Assert.Equal(metadata, SafeTensors.ReadHeader(path).Metadata);
    }

    [Fact]
    public void Sharded_checkpoint_loads_like_a_single_file()
    {
        using var dir = new TempDirectory();
        var reference = Fixtures.Reference("llama-tiny");
        File.Copy(Path.Combine(reference, "config.json"), Path.Combine(dir.Path, "config.json"));
        var all = SafeTensors.Load(Path.Combine(reference, "model.safetensors"));
        var names = all.Keys.Order(StringComparer.Ordinal).ToList();
        var shards = new[] { "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors" };
        var weightMap = new JsonObject();
        for (int s = 0; s < 2; s++)
        {
            var part = names.Where((_, i) => i % 2 == s).ToDictionary(n => n, n => all[n]);
            SafeTensors.Save(Path.Combine(dir.Path, shards[s]), part);
            foreach (var n in part.Keys) weightMap[n] = shards[s];
        }
        File.WriteAllText(Path.Combine(dir.Path, "model.safetensors.index.json"),
            new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = weightMap }.ToJsonString());

        using var sharded = PretrainedModels.Load(dir.Path, Fixtures.Cpu);
        using var single = PretrainedModels.Load(reference, Fixtures.Cpu);
        foreach (var (key, tensor) in single.state_dict())
            Assert.True(Fixtures.BitEqual(tensor, sharded.state_dict()[key]), key);
    }

    [Fact]
    public void Half_precision_checkpoint_loads_as_float32()
    {
        using var dir = new TempDirectory();
        var reference = Fixtures.Reference("gpt2-tiny");
        File.Copy(Path.Combine(reference, "config.json"), Path.Combine(dir.Path, "config.json"));
        var weights = SafeTensors.Load(Path.Combine(reference, "model.safetensors"));
        SafeTensors.Save(Path.Combine(dir.Path, "model.safetensors"), weights.ToDictionary(p => p.Key, p => p.Value.to(ScalarType.BFloat16)));

        using var model = PretrainedModels.Load(dir.Path, Fixtures.Cpu);
        var wte = model.state_dict()["transformer.wte.weight"];
        Assert.Equal(ScalarType.Float32, wte.dtype);
        Assert.True(Fixtures.BitEqual(wte, weights["transformer.wte.weight"].to(ScalarType.BFloat16).to(ScalarType.Float32)));
    }

    [Fact]
    public void Saving_as_float16_stores_half_precision_and_loads_back_as_its_float32_widening()
    {
        using var dir = new TempDirectory();
        using var model = PretrainedModels.Load(Fixtures.Reference("llama-tiny"), Fixtures.Cpu);
        PretrainedModels.Save(model, dir.Path, ScalarType.Float16);

        Assert.All(SafeTensors.ReadHeader(Path.Combine(dir.Path, "model.safetensors")).Entries, e => Assert.Equal(ScalarType.Float16, e.DType));
        using var reloaded = PretrainedModels.Load(dir.Path, Fixtures.Cpu);
        var original = model.state_dict();
        foreach (var (name, tensor) in reloaded.state_dict())
            Assert.True(Fixtures.BitEqual(tensor, original[name].to(ScalarType.Float16).to(ScalarType.Float32)), name);
    }

    [Fact]
    public void Original_openai_gpt2_names_without_transformer_prefix_and_mask_buffers_load()
    {
        using var dir = new TempDirectory();
        var reference = Fixtures.Reference("gpt2-tiny");
        File.Copy(Path.Combine(reference, "config.json"), Path.Combine(dir.Path, "config.json"));
        var weights = SafeTensors.Load(Path.Combine(reference, "model.safetensors"));
        var renamed = weights.ToDictionary(p => p.Key["transformer.".Length..], p => p.Value);
        renamed["h.0.attn.bias"] = ones(1, 1, 64, 64).tril();
        renamed["lm_head.weight"] = weights["transformer.wte.weight"];
        SafeTensors.Save(Path.Combine(dir.Path, "model.safetensors"), renamed);

        using var model = PretrainedModels.Load(dir.Path, Fixtures.Cpu);
        Assert.True(Fixtures.BitEqual(model.state_dict()["transformer.h.1.mlp.c_fc.weight"], weights["transformer.h.1.mlp.c_fc.weight"]));
    }

    [Fact]
    public void Shape_mismatch_error_names_the_tensor_and_both_shapes()
    {
        using var dir = CopyOfReference("llama-tiny", weights =>
            weights["model.layers.1.mlp.up_proj.weight"] = zeros(65, 32));
        var error = Assert.Throws<InvalidDataException>(() => PretrainedModels.Load(dir.Path, Fixtures.Cpu));
        Assert.Contains("'model.layers.1.mlp.up_proj.weight'", error.Message);
        Assert.Contains("[65, 32]", error.Message);
        Assert.Contains("[64, 32]", error.Message);
    }

    [Fact]
    public void Missing_tensor_error_names_the_tensor_and_its_shape()
    {
        using var dir = CopyOfReference("gpt2-tiny", weights => weights.Remove("transformer.h.1.ln_2.bias"));
        var error = Assert.Throws<InvalidDataException>(() => PretrainedModels.Load(dir.Path, Fixtures.Cpu));
        Assert.Contains("'transformer.h.1.ln_2.bias'", error.Message);
        Assert.Contains("[32]", error.Message);
    }

    [Fact]
    public void Unexpected_tensor_error_names_the_tensor()
    {
        using var dir = CopyOfReference("llama-tiny", weights => weights["model.layers.2.mlp.up_proj.weight"] = zeros(64, 32));
        var error = Assert.Throws<InvalidDataException>(() => PretrainedModels.Load(dir.Path, Fixtures.Cpu));
        Assert.Contains("'model.layers.2.mlp.up_proj.weight'", error.Message);
    }

    [Fact]
    public void Unknown_model_type_error_names_it_and_the_supported_ones()
    {
        using var dir = CopyOfReference("gpt2-tiny", configEdit: c => c["model_type"] = "mistral");
        var error = Assert.Throws<NotSupportedException>(() => PretrainedModels.Load(dir.Path, Fixtures.Cpu));
        Assert.Contains("\"mistral\"", error.Message);
        Assert.Contains("\"gpt2\"", error.Message);
        Assert.Contains("\"llama\"", error.Message);
    }

    [Fact]
    public void Config_missing_a_required_field_names_the_field()
    {
        using var dir = CopyOfReference("llama-tiny", configEdit: c => c.Remove("intermediate_size"));
        var error = Assert.Throws<InvalidDataException>(() => PretrainedModels.Load(dir.Path, Fixtures.Cpu));
        Assert.Contains("\"intermediate_size\"", error.Message);
    }

    [Fact]
    public void Llama_with_rope_scaling_is_refused_rather_than_loaded_wrong()
    {
        using var dir = CopyOfReference("llama-tiny", configEdit: c => c["rope_scaling"] = new JsonObject { ["rope_type"] = "llama3", ["factor"] = 8.0 });
        var error = Assert.Throws<NotSupportedException>(() => PretrainedModels.Load(dir.Path, Fixtures.Cpu));
        Assert.Contains("rope_scaling", error.Message);
    }

    [Fact]
    public void Saving_a_model_with_unmerged_lora_is_refused()
    {
        using var model = PretrainedModels.Load(Fixtures.Reference("gpt2-tiny"), Fixtures.Cpu);
        model.Projections().First().Layer.AddLora(rank: 2, alpha: 4, dropout: 0);
        using var dir = new TempDirectory();
        Assert.Throws<InvalidOperationException>(() => PretrainedModels.Save(model, dir.Path));
    }

    static TempDirectory CopyOfReference(string name, Action<Dictionary<string, Tensor>>? weightsEdit = null, Action<JsonObject>? configEdit = null)
    {
        var dir = new TempDirectory();
        var reference = Fixtures.Reference(name);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(reference, "config.json")))!.AsObject();
        configEdit?.Invoke(config);
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), config.ToJsonString());
        var weights = SafeTensors.Load(Path.Combine(reference, "model.safetensors"));
        weightsEdit?.Invoke(weights);
        SafeTensors.Save(Path.Combine(dir.Path, "model.safetensors"), weights);
        return dir;
    }
}

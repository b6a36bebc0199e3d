using System.Collections.Immutable;
using System.Text;
using System.Text.Json.Nodes;
using FedCoLLM.Learning.Checkpoints;
using FedCoLLM.Learning.Lora;

namespace FedCoLLM.Learning.Tests.Lora;

public sealed class PeftAdapterFileTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "peft-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    static (ToyModel Model, LoraAdapter Adapter) Trained(long seed = 5, params string[] targets)
    {
        var model = ToyModel.Create();
        var adapter = LoraAdapter.Apply(model, ToyModel.Config(targets.Length == 0 ? ["c_attn", "q_proj"] : targets), seed);
        ToyModel.RandomizeB(adapter, seed);
        return (model, adapter);
    }

    [Fact]
    public void Save_then_load_round_trips_bit_for_bit()
    {
        var (model, adapter) = Trained();
        using var _ = model;
        PeftAdapterFile.Save(dir, adapter, "gpt2");

        using var fresh = ToyModel.Create();
        var loaded = LoraAdapter.Apply(fresh, ToyModel.Config("c_attn", "q_proj"), seed: 77);
        PeftAdapterFile.Load(dir, loaded);
        Assert.True(loaded.Export().BitwiseEquals(adapter.Export()));

        var other = Path.Combine(dir, "again");
        PeftAdapterFile.Save(other, loaded, "gpt2");
        foreach (var file in new[] { PeftAdapterFile.ConfigFileName, PeftAdapterFile.WeightsFileName })
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir, file)), File.ReadAllBytes(Path.Combine(other, file)));
    }

    [Fact]
    public void Apply_and_load_rebuilds_the_adapter_from_the_directory_alone()
    {
        var (model, adapter) = Trained();
        using var _ = model;
        PeftAdapterFile.Save(dir, adapter, null);
        using var fresh = ToyModel.Create();
        var loaded = PeftAdapterFile.ApplyAndLoad(fresh, dir);
        Assert.Equal(adapter.Config, loaded.Config);
        using var x = ToyModel.Input();
        using var expected = model.forward(x);
        using var actual = fresh.forward(x);
        Assert.True(actual.eq(expected).all().item<bool>());
    }

    [Fact]
    public void Weight_keys_and_shapes_follow_peft()
    {
        var (model, adapter) = Trained();
        using var _ = model;
        PeftAdapterFile.Save(dir, adapter, "gpt2");
        var header = SafeTensors.ReadHeader(Path.Combine(dir, PeftAdapterFile.WeightsFileName));
        var shapes = header.Entries.ToDictionary(e => e.Name, e => string.Join("x", e.Shape));
        Assert.Equal(new Dictionary<string, string>
        {
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = "2x8",
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"] = "8x2",
            ["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"] = "2x8",  // Conv1D too: A [r, in]
            ["base_model.model.transformer.h.0.attn.c_attn.lora_B.weight"] = "24x2", // B [out, r]
        }, shapes);
        Assert.All(header.Entries, e => Assert.Equal(TorchSharp.torch.ScalarType.Float32, e.DType));
        Assert.Equal("pt", header.Metadata["format"]);
    }

    [Fact]
    public void Adapter_config_json_has_peft_lora_config_fields()
    {
        var (model, adapter) = Trained();
        using var _ = model;
        PeftAdapterFile.Save(dir, adapter, "openai-community/gpt2");
        var text = File.ReadAllText(Path.Combine(dir, PeftAdapterFile.ConfigFileName), Encoding.UTF8);
        var json = JsonNode.Parse(text)!.AsObject();

        Assert.Equal("LORA", (string?)json["peft_type"]);
        Assert.Equal("CAUSAL_LM", (string?)json["task_type"]);
        Assert.Equal(2, (int?)json["r"]);
        Assert.Equal(4, (int?)json["lora_alpha"]);
        Assert.Equal(0.1, (double?)json["lora_dropout"]);
        Assert.Equal(["c_attn", "q_proj"], json["target_modules"]!.AsArray().Select(n => (string?)n));
        Assert.True((bool?)json["fan_in_fan_out"]); // a Conv1D layer is targeted
        Assert.Equal("none", (string?)json["bias"]);
        Assert.Equal("openai-community/gpt2", (string?)json["base_model_name_or_path"]);
        Assert.True((bool?)json["inference_mode"]);
        Assert.True((bool?)json["init_lora_weights"]);
        Assert.False((bool?)json["use_rslora"]);
        Assert.False((bool?)json["use_dora"]);
        Assert.True(json.ContainsKey("modules_to_save") && json["modules_to_save"] is null);
        Assert.Equal(json.Select(p => p.Key).Order(StringComparer.Ordinal), json.Select(p => p.Key)); // sort_keys=True
        Assert.Contains("\n  \"lora_alpha\": 4,\n  \"lora_dropout\": 0.1,\n", text); // json.dumps(indent=2) layout
    }

    [Fact]
    public void Adapter_config_json_is_byte_identical_to_peft_json_dumps_output()
    {
        // Expected text produced by Python: json.dumps(<PEFT LoraConfig dict>, indent=2, sort_keys=True).
        const string expected = """
            {
              "alpha_pattern": {},
              "auto_mapping": null,
              "base_model_name_or_path": "gpt2",
              "bias": "none",
              "fan_in_fan_out": true,
              "inference_mode": true,
              "init_lora_weights": true,
              "layer_replication": null,
              "layers_pattern": null,
              "layers_to_transform": null,
              "loftq_config": {},
              "lora_alpha": 16,
              "lora_dropout": 0.05,
              "megatron_config": null,
              "megatron_core": "megatron.core",
              "modules_to_save": null,
              "peft_type": "LORA",
              "r": 8,
              "rank_pattern": {},
              "revision": null,
              "target_modules": [
                "c_attn"
              ],
              "task_type": "CAUSAL_LM",
              "use_dora": false,
              "use_rslora": false
            }
            """;
        var config = new PeftAdapterConfig(LoraConfig.ForModelType("gpt2"), FanInFanOut: true, BaseModelNameOrPath: "gpt2");
        Assert.Equal(expected, Encoding.UTF8.GetString(PeftAdapterFile.ConfigJson(config)));
        Assert.Equal(config, PeftAdapterFile.ParseConfig(expected));
    }

    [Fact]
    public void Fan_in_fan_out_is_false_when_only_linear_layers_are_targeted()
    {
        var (model, adapter) = Trained(5, "q_proj", "v_proj");
        using var _ = model;
        PeftAdapterFile.Save(dir, adapter, null);
        Assert.False(PeftAdapterFile.ReadConfig(dir).FanInFanOut);
    }

    [Fact]
    public void Loading_an_adapter_with_a_wrong_shape_names_the_key_and_both_shapes()
    {
        var (model, adapter) = Trained();
        using var _ = model;
        const string key = "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight";
        var tampered = new AdapterWeights(adapter.Export().Tensors.Select(t => t.Name == key
            ? new AdapterTensor(key, [23, 2], ImmutableArray.Create(new float[46]))
            : t));
        var ex = Assert.Throws<InvalidDataException>(() => adapter.Load(tampered));
        Assert.Contains(key, ex.Message);
        Assert.Contains("[23, 2]", ex.Message);
        Assert.Contains("[24, 2]", ex.Message);
    }

    [Fact]
    public void Loading_an_adapter_of_another_rank_names_the_rank()
    {
        var (model, adapter) = Trained();
        using var _ = model;
        using var other = ToyModel.Create();
        var rank4 = LoraAdapter.Apply(other, ToyModel.Config("c_attn", "q_proj") with { Rank = 4 }, seed: 5);
        var ex = Assert.Throws<InvalidDataException>(() => adapter.Load(rank4.Export()));
        Assert.Contains("r = 4", ex.Message);

        PeftAdapterFile.Save(dir, rank4, null);
        var fileEx = Assert.Throws<InvalidDataException>(() => PeftAdapterFile.Load(dir, adapter));
        Assert.Contains("r = 4", fileEx.Message);
        Assert.Contains("Rank = 2", fileEx.Message);
    }

    [Fact]
    public void Loading_an_adapter_missing_a_key_names_it()
    {
        var (model, adapter) = Trained();
        using var _ = model;
        const string key = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
        var partial = new AdapterWeights(adapter.Export().Tensors.Where(t => t.Name != key));
        var ex = Assert.Throws<InvalidDataException>(() => adapter.Load(partial));
        Assert.Contains(key, ex.Message);
        Assert.Contains("lacks", ex.Message);
    }

    [Fact]
    public void Loading_an_adapter_with_an_unexpected_key_names_it()
    {
        var (model, adapter) = Trained(5, "c_attn");
        using var _ = model;
        using var other = ToyModel.Create();
        var wider = LoraAdapter.Apply(other, ToyModel.Config("c_attn", "o_proj"), seed: 5);
        var ex = Assert.Throws<InvalidDataException>(() => adapter.Load(wider.Export()));
        Assert.Contains("base_model.model.model.layers.0.self_attn.o_proj.lora_A.weight", ex.Message);
    }

    [Fact]
    public void A_failed_load_leaves_the_adapter_unchanged()
    {
        var (model, adapter) = Trained();
        using var _ = model;
        var before = adapter.Export();
        var partial = new AdapterWeights(before.Tensors.Skip(1).Select(t =>
            new AdapterTensor(t.Name, t.Shape, ImmutableArray.Create(new float[t.Values.Length]))));
        Assert.Throws<InvalidDataException>(() => adapter.Load(partial));
        Assert.True(adapter.Export().BitwiseEquals(before));
    }

    [Fact]
    public void Config_with_unsupported_peft_options_is_rejected_naming_the_field()
    {
        var (model, adapter) = Trained();
        using var _ = model;
        PeftAdapterFile.Save(dir, adapter, null);
        var path = Path.Combine(dir, PeftAdapterFile.ConfigFileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["use_dora"] = true;
        var ex = Assert.Throws<InvalidDataException>(() => PeftAdapterFile.ParseConfig(json.ToJsonString()));
        Assert.Contains("use_dora", ex.Message);
        json["use_dora"] = false;
        json["target_modules"] = "all-linear";
        ex = Assert.Throws<InvalidDataException>(() => PeftAdapterFile.ParseConfig(json.ToJsonString()));
        Assert.Contains("target_modules", ex.Message);
    }

    [Fact]
    public void Adapter_weights_bytes_round_trip_and_hash_stably()
    {
        var (model, adapter) = Trained();
        using var _ = model;
        var weights = adapter.Export();
        var bytes = weights.ToBytes();
        var back = AdapterWeights.FromBytes(bytes);
        Assert.True(back.BitwiseEquals(weights));
        Assert.Equal(bytes, back.ToBytes());
        Assert.Equal(weights.ContentHash(), back.ContentHash());
        Assert.Matches("^[0-9a-f]{64}$", weights.ContentHash());
    }
}

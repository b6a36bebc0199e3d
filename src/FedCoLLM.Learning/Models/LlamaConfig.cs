using System.Text.Json.Nodes;

namespace FedCoLLM.Learning.Models;

/// <summary>LLaMA hyper-parameters, named after Hugging Face's <c>LlamaConfig</c> fields
/// (<c>num_key_value_heads</c> → <see cref="NumKeyValueHeads"/>).</summary>
public sealed record LlamaConfig(
    long VocabSize,
    int HiddenSize,
    int IntermediateSize,
    int NumHiddenLayers,
    int NumAttentionHeads,
    int NumKeyValueHeads,
    double RmsNormEps = 1e-6,
    double RopeTheta = 10000.0,
    int MaxPositionEmbeddings = 2048,
    bool TieWordEmbeddings = false,
    bool AttentionBias = false) : ModelConfig
{
    public override string ModelType => "llama";
    public override long VocabSize { get; } = VocabSize;
    public override int MaxSequenceLength => MaxPositionEmbeddings;
    public override bool FanInFanOut => false;

    public int HeadDim => HiddenSize / NumAttentionHeads;

    public void Validate()
    {
        if (HiddenSize % NumAttentionHeads != 0)
            throw new InvalidDataException($"LLaMA config: hidden_size = {HiddenSize} is not divisible by num_attention_heads = {NumAttentionHeads}.");
        if (NumAttentionHeads % NumKeyValueHeads != 0)
            throw new InvalidDataException($"LLaMA config: num_attention_heads = {NumAttentionHeads} is not a multiple of num_key_value_heads = {NumKeyValueHeads}.");
        if (HeadDim % 2 != 0)
            throw new InvalidDataException($"LLaMA config: head_dim = {HeadDim} is odd; rotary embeddings rotate pairs of dimensions.");
    }

    internal static LlamaConfig FromJson(ConfigJson json)
    {
        // Variants we do not implement must fail loudly rather than load and produce wrong logits.
        if (json.IsPresent("rope_scaling"))
            throw new NotSupportedException(
                $"{json.Source}: \"rope_scaling\" is set; only plain RoPE (rope_scaling = null) is implemented. Use a checkpoint without RoPE scaling (e.g. LLaMA-2 / TinyLlama) or remove the field if the model was not trained with it.");
        if (json.Optional("hidden_act", "silu") != "silu")
            throw new NotSupportedException($"{json.Source}: \"hidden_act\" = \"{json.Optional("hidden_act", "")}\"; only \"silu\" (SwiGLU) is implemented.");
        if (json.Optional("mlp_bias", false))
            throw new NotSupportedException($"{json.Source}: \"mlp_bias\" = true is not implemented.");
        int hidden = json.Required<int>("hidden_size"), heads = json.Required<int>("num_attention_heads");
        if (json.IsPresent("head_dim") && json.Optional("head_dim", 0) != hidden / heads)
            throw new NotSupportedException($"{json.Source}: \"head_dim\" = {json.Optional("head_dim", 0)} differs from hidden_size / num_attention_heads = {hidden / heads}; that layout is not implemented.");
        var config = new LlamaConfig(
            VocabSize: json.Required<long>("vocab_size"),
            HiddenSize: hidden,
            IntermediateSize: json.Required<int>("intermediate_size"),
            NumHiddenLayers: json.Required<int>("num_hidden_layers"),
            NumAttentionHeads: heads,
            NumKeyValueHeads: json.Optional("num_key_value_heads", heads),
            RmsNormEps: json.Optional("rms_norm_eps", 1e-6),
            RopeTheta: json.Optional("rope_theta", 10000.0),
            MaxPositionEmbeddings: json.Optional("max_position_embeddings", 2048),
            TieWordEmbeddings: json.Optional("tie_word_embeddings", false),
            AttentionBias: json.Optional("attention_bias", false));
        config.Validate();
        return config;
    }

    internal JsonObject ToJson() => new()
    {
        ["model_type"] = ModelType,
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["vocab_size"] = VocabSize,
        ["hidden_size"] = HiddenSize,
        ["intermediate_size"] = IntermediateSize,
        ["num_hidden_layers"] = NumHiddenLayers,
        ["num_attention_heads"] = NumAttentionHeads,
        ["num_key_value_heads"] = NumKeyValueHeads,
        ["head_dim"] = HeadDim,
        ["hidden_act"] = "silu",
        ["rms_norm_eps"] = RmsNormEps,
        ["rope_theta"] = RopeTheta,
        ["rope_scaling"] = null,
        ["max_position_embeddings"] = MaxPositionEmbeddings,
        ["tie_word_embeddings"] = TieWordEmbeddings,
        ["attention_bias"] = AttentionBias,
        ["attention_dropout"] = 0.0,
        ["mlp_bias"] = false,
        ["torch_dtype"] = "float32",
    };
}

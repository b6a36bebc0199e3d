using System.Text.Json.Nodes;

namespace FedCoLLM.Learning.Models;

/// <summary>
/// GPT-2 hyper-parameters, named after Hugging Face's <c>GPT2Config</c> fields
/// (<c>n_embd</c> → <see cref="NEmbd"/>). Dropout rates default to HF's 0.1; they act only in training mode.
/// </summary>
public sealed record Gpt2Config(
    long VocabSize,
    int NPositions,
    int NEmbd,
    int NLayer,
    int NHead,
    double LayerNormEpsilon = 1e-5,
    int? NInner = null,
    string ActivationFunction = "gelu_new",
    double EmbdPdrop = 0.1,
    double AttnPdrop = 0.1,
    double ResidPdrop = 0.1) : ModelConfig
{
    public override string ModelType => "gpt2";
    public override long VocabSize { get; } = VocabSize;
    public override int MaxSequenceLength => NPositions;
    public override bool FanInFanOut => true;

    /// <summary>Width of the MLP's hidden layer; HF's <c>n_inner = null</c> means 4·n_embd.</summary>
    public int InnerSize => NInner ?? 4 * NEmbd;
    public int HeadSize => NEmbd / NHead;

    public void Validate()
    {
        if (NEmbd % NHead != 0)
            throw new InvalidDataException($"GPT-2 config: n_embd = {NEmbd} is not divisible by n_head = {NHead}.");
        if (ActivationFunction is not ("gelu_new" or "gelu_pytorch_tanh" or "gelu"))
            throw new NotSupportedException(
                $"GPT-2 config: activation_function \"{ActivationFunction}\" is not supported; use \"gelu_new\" (GPT-2's), \"gelu_pytorch_tanh\" or \"gelu\".");
    }

    internal static Gpt2Config FromJson(ConfigJson json)
    {
        var config = new Gpt2Config(
            VocabSize: json.Required<long>("vocab_size"),
            NPositions: json.Required<int>("n_positions"),
            NEmbd: json.Required<int>("n_embd"),
            NLayer: json.Required<int>("n_layer"),
            NHead: json.Required<int>("n_head"),
            LayerNormEpsilon: json.Optional("layer_norm_epsilon", 1e-5),
            NInner: json.Optional<int?>("n_inner", null),
            ActivationFunction: json.Optional("activation_function", "gelu_new"),
            EmbdPdrop: json.Optional("embd_pdrop", 0.1),
            AttnPdrop: json.Optional("attn_pdrop", 0.1),
            ResidPdrop: json.Optional("resid_pdrop", 0.1));
        config.Validate();
        return config;
    }

    internal JsonObject ToJson() => new()
    {
        ["model_type"] = ModelType,
        ["architectures"] = new JsonArray("GPT2LMHeadModel"),
        ["vocab_size"] = VocabSize,
        ["n_positions"] = NPositions,
        ["n_ctx"] = NPositions,
        ["n_embd"] = NEmbd,
        ["n_layer"] = NLayer,
        ["n_head"] = NHead,
        ["n_inner"] = NInner,
        ["layer_norm_epsilon"] = LayerNormEpsilon,
        ["activation_function"] = ActivationFunction,
        ["embd_pdrop"] = EmbdPdrop,
        ["attn_pdrop"] = AttnPdrop,
        ["resid_pdrop"] = ResidPdrop,
        ["tie_word_embeddings"] = true,
        ["torch_dtype"] = "float32",
    };
}

using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FedCoLLM.Learning.Models;

/// <summary>
/// LLaMA as Hugging Face's <c>LlamaForCausalLM</c> computes it (Touvron et al. 2023): RMSNorm pre-norm
/// blocks, rotary position embeddings (HF's rotate_half layout), grouped-query attention, a SwiGLU MLP
/// and an LM head that is separate unless <c>tie_word_embeddings</c>. All linear maps are nn.Linear-style
/// Projections ([out, in] weights). Field names are HF's module names.
/// </summary>
public sealed class LlamaModel : CausalLanguageModel
{
    readonly LlamaConfig config;
    readonly Backbone model;
    readonly Projection? lm_head;   // null when tied: the head is then model.embed_tokens.weight

    public LlamaModel(LlamaConfig config) : base(nameof(LlamaModel))
    {
        config.Validate();
        this.config = config;
        model = new Backbone(config);
        if (!config.TieWordEmbeddings)
            lm_head = new Projection("lm_head", config.HiddenSize, config.VocabSize, hasBias: false, weightIsInputMajor: config.FanInFanOut);
        RegisterComponents();
    }

    public override ModelConfig Config => config;
    public LlamaConfig LlamaConfig => config;

    /// <summary>Maps a checkpoint tensor name to ours, or null for tensors that carry no parameter:
    /// <c>rotary_emb.inv_freq</c> buffers of older exports and a tied <c>lm_head.weight</c>.</summary>
    public string? ParameterNameFor(string checkpointName) => checkpointName switch
    {
        _ when checkpointName.EndsWith(".rotary_emb.inv_freq") => null,
        "lm_head.weight" when config.TieWordEmbeddings => null,
        _ => checkpointName,
    };

    protected override Tensor ComputeHiddenStates(Tensor inputIds, Tensor attentionMask) => model.forward(inputIds, attentionMask);

    public override LanguageModelHead Head =>
        head ??= lm_head is null ? LanguageModelHead.TiedTo(model.embed_tokens) : LanguageModelHead.Of(lm_head);
    LanguageModelHead? head;

    sealed class Backbone : Module<Tensor, Tensor, Tensor>
    {
        readonly LlamaConfig config;
        public readonly Embedding embed_tokens;
        readonly ModuleList<DecoderLayer> layers;
        readonly RmsNorm norm;

        public Backbone(LlamaConfig config) : base("model")
        {
            this.config = config;
            embed_tokens = Embedding(config.VocabSize, config.HiddenSize);
            layers = new ModuleList<DecoderLayer>(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new DecoderLayer(config)).ToArray());
            norm = new RmsNorm(config.HiddenSize, config.RmsNormEps);
            RegisterComponents();
        }

        public override Tensor forward(Tensor inputIds, Tensor attentionMask)
        {
            var (cos, sin) = RotaryAngles(inputIds.shape[1], inputIds.device);
            var mask = AttentionMask.CausalWithPadding(attentionMask);
            var x = embed_tokens.forward(inputIds);
            foreach (var layer in layers) x = layer.forward(x, mask, cos, sin);
            return norm.forward(x);
        }

        /// <summary>cos and sin of θ_i·p for positions p = 0..T-1 (right padding keeps real tokens at
        /// their unpadded positions), laid out [T, head_dim] as HF's cat(freqs, freqs), in float32.</summary>
        (Tensor Cos, Tensor Sin) RotaryAngles(long length, Device device)
        {
            int dim = config.HeadDim;
            var exponents = arange(0, dim, 2, dtype: ScalarType.Int64, device: device).to(ScalarType.Float32).div_(dim);
            var inverseFrequencies = full(exponents.shape, config.RopeTheta, ScalarType.Float32, device).pow_(exponents).reciprocal_();
            var positions = arange(length, dtype: ScalarType.Int64, device: device).to(ScalarType.Float32);
            var angles = outer(positions, inverseFrequencies);
            var both = cat([angles, angles], dim: -1);
            return (both.cos(), both.sin());
        }
    }

    sealed class DecoderLayer : Module<Tensor, Tensor, Tensor, Tensor, Tensor>
    {
        readonly RmsNorm input_layernorm;
        readonly SelfAttention self_attn;
        readonly RmsNorm post_attention_layernorm;
        readonly Mlp mlp;

        public DecoderLayer(LlamaConfig config) : base("layer")
        {
            input_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps);
            self_attn = new SelfAttention(config);
            post_attention_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps);
            mlp = new Mlp(config);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x, Tensor mask, Tensor cos, Tensor sin)
        {
            x = x + self_attn.forward(input_layernorm.forward(x), mask, cos, sin);
            return x + mlp.forward(post_attention_layernorm.forward(x));
        }
    }

    sealed class SelfAttention : Module<Tensor, Tensor, Tensor, Tensor, Tensor>
    {
        readonly int heads, keyValueHeads, headDim;
        readonly Projection q_proj, k_proj, v_proj, o_proj;

        public SelfAttention(LlamaConfig config) : base("self_attn")
        {
            heads = config.NumAttentionHeads;
            keyValueHeads = config.NumKeyValueHeads;
            headDim = config.HeadDim;
            bool bias = config.AttentionBias;
            q_proj = new Projection("q_proj", config.HiddenSize, heads * headDim, bias, weightIsInputMajor: config.FanInFanOut);
            k_proj = new Projection("k_proj", config.HiddenSize, keyValueHeads * headDim, bias, weightIsInputMajor: config.FanInFanOut);
            v_proj = new Projection("v_proj", config.HiddenSize, keyValueHeads * headDim, bias, weightIsInputMajor: config.FanInFanOut);
            o_proj = new Projection("o_proj", heads * headDim, config.HiddenSize, bias, weightIsInputMajor: config.FanInFanOut);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x, Tensor mask, Tensor cos, Tensor sin)
        {
            long batch = x.shape[0], length = x.shape[1];
            var q = Rotate(SplitHeads(q_proj.forward(x), heads));
            var k = Rotate(SplitHeads(k_proj.forward(x), keyValueHeads));
            var v = SplitHeads(v_proj.forward(x), keyValueHeads);
            // Grouped-query attention: key/value head j serves query heads j·g .. j·g + g - 1 (HF's repeat_kv).
            int group = heads / keyValueHeads;
            if (group > 1)
            {
                k = k.repeat_interleave(group, dim: 1);
                v = v.repeat_interleave(group, dim: 1);
            }
            var y = functional.scaled_dot_product_attention(q, k, v, mask);
            return o_proj.forward(y.transpose(1, 2).reshape(batch, length, heads * headDim));

            Tensor SplitHeads(Tensor t, int n) => t.view(batch, length, n, headDim).transpose(1, 2);
            // RoPE: x·cos + rotate_half(x)·sin, where rotate_half(x) = [-x₂, x₁] over the two halves of head_dim.
            Tensor Rotate(Tensor t)
            {
                var halves = t.chunk(2, dim: -1);
                var rotated = cat([halves[1].neg(), halves[0]], dim: -1);
                return t * cos + rotated * sin;
            }
        }
    }

    sealed class Mlp : Module<Tensor, Tensor>
    {
        readonly Projection gate_proj, up_proj, down_proj;

        public Mlp(LlamaConfig config) : base("mlp")
        {
            gate_proj = new Projection("gate_proj", config.HiddenSize, config.IntermediateSize, hasBias: false, weightIsInputMajor: config.FanInFanOut);
            up_proj = new Projection("up_proj", config.HiddenSize, config.IntermediateSize, hasBias: false, weightIsInputMajor: config.FanInFanOut);
            down_proj = new Projection("down_proj", config.IntermediateSize, config.HiddenSize, hasBias: false, weightIsInputMajor: config.FanInFanOut);
            RegisterComponents();
        }

        // SwiGLU (Shazeer 2020): down(silu(gate(x)) ⊙ up(x)).
        public override Tensor forward(Tensor x) =>
            down_proj.forward(functional.silu(gate_proj.forward(x)) * up_proj.forward(x));
    }

    /// <summary>RMSNorm (Zhang &amp; Sennrich 2019): x / √(mean(x²) + ε) · w, computed in float32 as HF does.</summary>
    sealed class RmsNorm : Module<Tensor, Tensor>
    {
        readonly Parameter weight;
        readonly double eps;

        public RmsNorm(long size, double eps) : base("rms_norm")
        {
            weight = Parameter(ones(size));
            this.eps = eps;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var x32 = x.to(ScalarType.Float32);
            var normalized = x32 * x32.pow(2).mean([-1], keepdim: true).add_(eps).rsqrt_();
            return weight * normalized.to(x.dtype);
        }
    }
}

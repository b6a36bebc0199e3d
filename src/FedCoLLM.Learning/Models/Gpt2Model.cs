using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FedCoLLM.Learning.Models;

/// <summary>
/// GPT-2 as Hugging Face's <c>GPT2LMHeadModel</c> computes it (Radford et al. 2019): learned position
/// embeddings, pre-LayerNorm blocks, GELU (tanh approximation), and an LM head tied to the token
/// embedding. Field names are HF's module names, so parameters are <c>transformer.h.0.attn.c_attn.weight</c>
/// etc.; HF's Conv1D stores weights as [in, out], hence <see cref="Gpt2Config.FanInFanOut"/> is true.
/// </summary>
public sealed class Gpt2Model : CausalLanguageModel
{
    readonly Gpt2Config config;
    readonly Transformer transformer;

    public Gpt2Model(Gpt2Config config) : base(nameof(Gpt2Model))
    {
        config.Validate();
        this.config = config;
        transformer = new Transformer(config);
        RegisterComponents();
    }

    public override ModelConfig Config => config;
    public Gpt2Config Gpt2Config => config;

    /// <summary>
    /// Re-draws every weight as Hugging Face's GPT2PreTrainedModel._init_weights does for training from scratch:
    /// N(0, 0.02) for embeddings and projections, the residual projections (<c>c_proj</c>) scaled by
    /// 1/√(2·n_layer) (GPT-2 paper §2.3), LayerNorm (1, 0), biases 0. The TorchSharp defaults (N(0, 1)
    /// embeddings shared with the LM head) start training at a loss near 170 instead of ln V.
    /// </summary>
    public void InitializeForPretraining()
    {
        const double std = 0.02;
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith(".bias")) p.zero_();
            else if (name.Contains(".ln_") || name.StartsWith("transformer.ln_f")) p.fill_(1.0);
            else if (name.EndsWith("c_proj.weight")) p.normal_(0, std / Math.Sqrt(2.0 * config.NLayer));
            else p.normal_(0, std);
        }
    }

    /// <summary>Maps a checkpoint tensor name to ours, or null for tensors that carry no parameter:
    /// the tied <c>lm_head.weight</c> and the causal-mask buffers (<c>attn.bias</c>, <c>attn.masked_bias</c>)
    /// of older checkpoints. OpenAI's original upload names tensors without the <c>transformer.</c> prefix.</summary>
    public static string? ParameterNameFor(string checkpointName) => checkpointName switch
    {
        "lm_head.weight" => null,
        _ when checkpointName.EndsWith(".attn.bias") || checkpointName.EndsWith(".attn.masked_bias") => null,
        _ when checkpointName.StartsWith("transformer.") => checkpointName,
        _ => "transformer." + checkpointName,
    };

    protected override Tensor ComputeHiddenStates(Tensor inputIds, Tensor attentionMask) => transformer.forward(inputIds, attentionMask);

    // Tied head: logits = h · wteᵀ (HF's lm_head.weight is the same tensor as transformer.wte.weight).
    public override LanguageModelHead Head => head ??= LanguageModelHead.TiedTo(transformer.wte);
    LanguageModelHead? head;

    sealed class Transformer : Module<Tensor, Tensor, Tensor>
    {
        readonly Gpt2Config config;
        public readonly Embedding wte;
        readonly Embedding wpe;
        readonly Dropout drop;
        readonly ModuleList<Block> h;
        readonly LayerNorm ln_f;

        public Transformer(Gpt2Config config) : base("transformer")
        {
            this.config = config;
            wte = Embedding(config.VocabSize, config.NEmbd);
            wpe = Embedding(config.NPositions, config.NEmbd);
            drop = Dropout(config.EmbdPdrop);
            h = new ModuleList<Block>(Enumerable.Range(0, config.NLayer).Select(_ => new Block(config)).ToArray());
            ln_f = LayerNorm(config.NEmbd, config.LayerNormEpsilon);
            RegisterComponents();
        }

        public override Tensor forward(Tensor inputIds, Tensor attentionMask)
        {
            long length = inputIds.shape[1];
            if (length > config.NPositions)
                throw new ArgumentException($"Sequence length {length} exceeds GPT-2's n_positions = {config.NPositions}; truncate the batch.");
            // Positions 0..T-1 for every row: with right padding the real tokens sit at the same positions as unpadded.
            var positions = arange(length, dtype: ScalarType.Int64, device: inputIds.device);
            var x = drop.forward(wte.forward(inputIds) + wpe.forward(positions));
            var mask = AttentionMask.CausalWithPadding(attentionMask);
            foreach (var block in h) x = block.forward(x, mask);
            return ln_f.forward(x);
        }
    }

    sealed class Block : Module<Tensor, Tensor, Tensor>
    {
        readonly LayerNorm ln_1;
        readonly Attention attn;
        readonly LayerNorm ln_2;
        readonly Mlp mlp;

        public Block(Gpt2Config config) : base("block")
        {
            ln_1 = LayerNorm(config.NEmbd, config.LayerNormEpsilon);
            attn = new Attention(config);
            ln_2 = LayerNorm(config.NEmbd, config.LayerNormEpsilon);
            mlp = new Mlp(config);
            RegisterComponents();
        }

        // Pre-LN residual block: x + attn(ln_1(x)), then + mlp(ln_2(x)).
        public override Tensor forward(Tensor x, Tensor mask)
        {
            x = x + attn.forward(ln_1.forward(x), mask);
            return x + mlp.forward(ln_2.forward(x));
        }
    }

    sealed class Attention : Module<Tensor, Tensor, Tensor>
    {
        readonly int heads, embed;
        readonly double attentionDropout;
        readonly Projection c_attn;
        readonly Projection c_proj;
        readonly Dropout resid_dropout;

        public Attention(Gpt2Config config) : base("attn")
        {
            heads = config.NHead;
            embed = config.NEmbd;
            attentionDropout = config.AttnPdrop;
            c_attn = new Projection("c_attn", embed, 3 * embed, hasBias: true, weightIsInputMajor: config.FanInFanOut);
            c_proj = new Projection("c_proj", embed, embed, hasBias: true, weightIsInputMajor: config.FanInFanOut);
            resid_dropout = Dropout(config.ResidPdrop);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x, Tensor mask)
        {
            long batch = x.shape[0], length = x.shape[1], headSize = embed / heads;
            var qkv = c_attn.forward(x).split(embed, dim: -1);
            var (q, k, v) = (SplitHeads(qkv[0]), SplitHeads(qkv[1]), SplitHeads(qkv[2]));
            // softmax(q·kᵀ/√d + mask)·v; scaled_dot_product_attention uses exactly the 1/√d scale.
            var y = functional.scaled_dot_product_attention(q, k, v, mask, p: training ? attentionDropout : 0.0);
            y = y.transpose(1, 2).reshape(batch, length, embed);
            return resid_dropout.forward(c_proj.forward(y));

            Tensor SplitHeads(Tensor t) => t.view(batch, length, heads, headSize).transpose(1, 2);
        }
    }

    sealed class Mlp : Module<Tensor, Tensor>
    {
        readonly Projection c_fc;
        readonly Projection c_proj;
        readonly Dropout dropout;
        readonly bool exactGelu;

        public Mlp(Gpt2Config config) : base("mlp")
        {
            c_fc = new Projection("c_fc", config.NEmbd, config.InnerSize, hasBias: true, weightIsInputMajor: config.FanInFanOut);
            c_proj = new Projection("c_proj", config.InnerSize, config.NEmbd, hasBias: true, weightIsInputMajor: config.FanInFanOut);
            dropout = Dropout(config.ResidPdrop);
            exactGelu = config.ActivationFunction == "gelu";
            RegisterComponents();
        }

        // gelu_new (GPT-2's) is the tanh approximation 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))).
        public override Tensor forward(Tensor x)
        {
            var hidden = c_fc.forward(x);
            hidden = exactGelu ? hidden.gelu() : hidden.gelu(TorchSharp.Modules.GELU.Approximate.tanh);
            return dropout.forward(c_proj.forward(hidden));
        }
    }
}

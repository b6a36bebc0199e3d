#!/usr/bin/python3
"""Golden logits for the C# models, from an independent plain-PyTorch implementation.

Runs with Debian's /usr/bin/python3 and torch 1.13 only (no transformers, no safetensors package).
The two models below are written from the Hugging Face equations (GPT2LMHeadModel,
LlamaForCausalLM), not translated from the C# code, so agreement means both read the paper/HF
the same way. Each tiny random model is written as a Hugging Face checkpoint directory:

    tests/reference/<name>/config.json          HF field names
    tests/reference/<name>/model.safetensors    HF parameter names, float32, {"format": "pt"}
    tests/reference/<name>/golden.safetensors   input_ids, attention_mask (row 1 right-padded), logits

Usage: /usr/bin/python3 tests/reference/make_goldens.py   (deterministic; rerun after changing it)
"""
import json
import math
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.float16: "F16", torch.bfloat16: "BF16"}


def save_safetensors(path, tensors):
    """The safetensors layout: u64 header length, JSON header (keys sorted), raw little-endian data."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------- GPT-2 (GPT2LMHeadModel)

def gelu_new(x):
    # Hendrycks & Gimpel's tanh approximation, as in HF's NewGELUActivation.
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gpt2_logits(w, cfg, ids, mask):
    B, T = ids.shape
    C, H = cfg["n_embd"], cfg["n_head"]
    D = C // H
    eps = cfg["layer_norm_epsilon"]
    pos = torch.arange(T)
    h = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][pos][None]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    neg = torch.finfo(torch.float32).min
    pad_bias = (1.0 - mask[:, None, None, :].float()) * neg          # [B,1,1,T]
    for i in range(cfg["n_layer"]):
        p = lambda n: w[f"transformer.h.{i}.{n}"]
        x = torch.nn.functional.layer_norm(h, (C,), p("ln_1.weight"), p("ln_1.bias"), eps)
        qkv = x @ p("attn.c_attn.weight") + p("attn.c_attn.bias")    # Conv1D: W is [in, out]
        q, k, v = qkv.split(C, dim=-1)
        q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v))
        s = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        s = torch.where(causal, s, torch.tensor(neg)) + pad_bias
        a = torch.softmax(s, dim=-1) @ v
        a = a.transpose(1, 2).reshape(B, T, C)
        h = h + (a @ p("attn.c_proj.weight") + p("attn.c_proj.bias"))
        x = torch.nn.functional.layer_norm(h, (C,), p("ln_2.weight"), p("ln_2.bias"), eps)
        m = gelu_new(x @ p("mlp.c_fc.weight") + p("mlp.c_fc.bias"))
        h = h + (m @ p("mlp.c_proj.weight") + p("mlp.c_proj.bias"))
    h = torch.nn.functional.layer_norm(h, (C,), w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)
    return h @ w["transformer.wte.weight"].t()                         # tied LM head


def gpt2_weights(cfg, g):
    C, V, P, I = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"], cfg["n_inner"] or 4 * cfg["n_embd"]
    r = lambda *s, std=0.2: torch.randn(*s, generator=g) * std
    w = {"transformer.wte.weight": r(V, C, std=0.5), "transformer.wpe.weight": r(P, C, std=0.3),
         "transformer.ln_f.weight": 1 + r(C), "transformer.ln_f.bias": r(C)}
    for i in range(cfg["n_layer"]):
        pre = f"transformer.h.{i}."
        w.update({pre + "ln_1.weight": 1 + r(C), pre + "ln_1.bias": r(C),
                  pre + "attn.c_attn.weight": r(C, 3 * C), pre + "attn.c_attn.bias": r(3 * C),
                  pre + "attn.c_proj.weight": r(C, C), pre + "attn.c_proj.bias": r(C),
                  pre + "ln_2.weight": 1 + r(C), pre + "ln_2.bias": r(C),
                  pre + "mlp.c_fc.weight": r(C, I), pre + "mlp.c_fc.bias": r(I),
                  pre + "mlp.c_proj.weight": r(I, C), pre + "mlp.c_proj.bias": r(C)})
    return w


# ---------------------------------------------------------------- LLaMA (LlamaForCausalLM)

def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def llama_logits(w, cfg, ids, mask):
    B, T = ids.shape
    C, H, KV = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D, eps = C // H, cfg["rms_norm_eps"]
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, D, 2).float() / D))
    angles = torch.outer(torch.arange(T).float(), inv_freq)
    cos, sin = torch.cat((angles, angles), -1).cos(), torch.cat((angles, angles), -1).sin()  # [T, D]
    allowed = torch.tril(torch.ones(T, T, dtype=torch.bool))[None, None] & mask[:, None, None, :].bool()
    neg = torch.finfo(torch.float32).min
    lin = lambda x, name: x @ w[name].t() + (w[name[:-len("weight")] + "bias"] if name[:-len("weight")] + "bias" in w else 0)
    h = w["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        x = rms_norm(h, w[pre + "input_layernorm.weight"], eps)
        q = lin(x, pre + "self_attn.q_proj.weight").view(B, T, H, D).transpose(1, 2)
        k = lin(x, pre + "self_attn.k_proj.weight").view(B, T, KV, D).transpose(1, 2)
        v = lin(x, pre + "self_attn.v_proj.weight").view(B, T, KV, D).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        # Grouped-query attention: key/value head j serves query heads j*H/KV .. (j+1)*H/KV - 1.
        k = k[:, :, None].expand(B, KV, H // KV, T, D).reshape(B, H, T, D)
        v = v[:, :, None].expand(B, KV, H // KV, T, D).reshape(B, H, T, D)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        s = s.masked_fill(~allowed, neg)
        a = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, C)
        h = h + lin(a, pre + "self_attn.o_proj.weight")
        x = rms_norm(h, w[pre + "post_attention_layernorm.weight"], eps)
        gate = lin(x, pre + "mlp.gate_proj.weight")
        h = h + lin(torch.nn.functional.silu(gate) * lin(x, pre + "mlp.up_proj.weight"), pre + "mlp.down_proj.weight")
    h = rms_norm(h, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return h @ head.t()


def llama_weights(cfg, g):
    C, V, I = cfg["hidden_size"], cfg["vocab_size"], cfg["intermediate_size"]
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D, bias = C // H, cfg["attention_bias"]
    r = lambda *s, std=0.2: torch.randn(*s, generator=g) * std
    w = {"model.embed_tokens.weight": r(V, C, std=0.5), "model.norm.weight": 1 + r(C)}
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = r(V, C)
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        w.update({pre + "input_layernorm.weight": 1 + r(C), pre + "post_attention_layernorm.weight": 1 + r(C),
                  pre + "self_attn.q_proj.weight": r(H * D, C), pre + "self_attn.k_proj.weight": r(KV * D, C),
                  pre + "self_attn.v_proj.weight": r(KV * D, C), pre + "self_attn.o_proj.weight": r(C, H * D),
                  pre + "mlp.gate_proj.weight": r(I, C), pre + "mlp.up_proj.weight": r(I, C),
                  pre + "mlp.down_proj.weight": r(C, I)})
        if bias:
            for n, size in (("q", H * D), ("k", KV * D), ("v", KV * D), ("o", C)):
                w[pre + f"self_attn.{n}_proj.bias"] = r(size)
    return w


# ---------------------------------------------------------------- writing the fixtures

def batch(vocab, g):
    """Two rows of length 7; row 1 has 4 real tokens then 3 padding tokens (id 0) on the right."""
    ids = torch.randint(1, vocab, (2, 7), generator=g)
    mask = torch.ones(2, 7, dtype=torch.int64)
    mask[1, 4:] = 0
    ids[1, 4:] = 0
    return ids, mask


def write(name, cfg, weights, logits_fn, g):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    save_safetensors(os.path.join(d, "model.safetensors"), weights)
    ids, mask = batch(cfg["vocab_size"], g)
    with torch.no_grad():
        logits = logits_fn(weights, cfg, ids, mask)
    save_safetensors(os.path.join(d, "golden.safetensors"),
                     {"input_ids": ids, "attention_mask": mask, "logits": logits.float()})
    print(f"{name}: {sum(t.numel() for t in weights.values())} parameters, logits {list(logits.shape)}")


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1234)
    gpt2 = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 97, "n_positions": 64,
            "n_embd": 32, "n_layer": 2, "n_head": 4, "n_inner": None, "layer_norm_epsilon": 1e-5,
            "activation_function": "gelu_new", "tie_word_embeddings": True}
    write("gpt2-tiny", gpt2, gpt2_weights(gpt2, g), gpt2_logits, g)

    llama = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 101, "hidden_size": 32,
             "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
             "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "max_position_embeddings": 64,
             "tie_word_embeddings": False, "attention_bias": False, "hidden_act": "silu", "rope_scaling": None}
    write("llama-tiny", llama, llama_weights(llama, g), llama_logits, g)

    # The other switches: tied head, biased attention projections, a different RoPE base, MHA-as-GQA off.
    llama_tied = dict(llama, tie_word_embeddings=True, attention_bias=True, rope_theta=500000.0,
                      num_key_value_heads=4)
    write("llama-tiny-tied-bias", llama_tied, llama_weights(llama_tied, g), llama_logits, g)


if __name__ == "__main__":
    main()

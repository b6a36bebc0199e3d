#!/usr/bin/python3
"""PyTorch side of `fedcollm bench train-step`: one LoRA SFT step on a GPT-2-shaped model.

Plain PyTorch (Debian's python3-torch 1.13 with OpenBLAS), written from the GPT-2 equations so the
comparison does not depend on transformers/peft. Prints one JSON object on stdout.
"""
import argparse, json, math, os, statistics, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv1D(nn.Module):
    """GPT-2's Conv1D (weight [in, out]) with an optional LoRA branch, as PEFT wraps it."""

    def __init__(self, n_in, n_out, lora_r=0, lora_alpha=16):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_out))
        self.lora_r = lora_r
        if lora_r:
            self.lora_A = nn.Linear(n_in, lora_r, bias=False)
            self.lora_B = nn.Linear(lora_r, n_out, bias=False)
            nn.init.zeros_(self.lora_B.weight)
            self.scaling = lora_alpha / lora_r

    def forward(self, x):
        y = torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(*x.shape[:-1], -1)
        if self.lora_r:
            y = y + self.lora_B(self.lora_A(x)) * self.scaling
        return y


class Block(nn.Module):
    def __init__(self, d, heads, lora_r):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.c_attn = Conv1D(d, 3 * d, lora_r)
        self.c_proj = Conv1D(d, d)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.c_fc = Conv1D(d, 4 * d)
        self.mlp_proj = Conv1D(4 * d, d)

    def forward(self, x, mask):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.heads)
        att = att.masked_fill(mask, torch.finfo(att.dtype).min).softmax(-1)
        x = x + self.c_proj((att @ v).transpose(1, 2).reshape(B, T, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class Gpt2(nn.Module):
    def __init__(self, vocab, ctx, d, layers, heads, lora_r):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        self.h = nn.ModuleList(Block(d, heads, lora_r) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d, eps=1e-5)

    def hidden(self, ids, attention_mask):
        B, T = ids.shape
        causal = torch.ones(T, T, dtype=torch.bool).triu(1)
        mask = causal[None, None] | (attention_mask[:, None, None, :] == 0)
        x = self.wte(ids) + self.wpe(torch.arange(T))[None]
        for block in self.h:
            x = block(x, mask)
        return self.ln_f(x)

    def forward(self, ids, attention_mask):
        return self.hidden(ids, attention_mask) @ self.wte.weight.t()  # tied head


def hf_init(model, layers):
    """Hugging Face's GPT2PreTrainedModel._init_weights, as Gpt2Model.InitializeForPretraining does on our side:
    N(0, 0.02) for embeddings and projections, residual projections scaled by 1/sqrt(2 layers), LayerNorm (1, 0),
    biases 0. LoRA's own init (A Kaiming, B zero) is left as it is."""
    with torch.no_grad():
        for name, prm in model.named_parameters():
            if "lora_" in name:
                continue
            if name.endswith("bias"):
                prm.zero_()
            elif ".ln_" in name or name.startswith("ln_f"):
                prm.fill_(1.0)
            elif name.endswith("c_proj.weight") or name.endswith("mlp_proj.weight"):
                prm.normal_(0, 0.02 / math.sqrt(2 * layers))
            else:
                prm.normal_(0, 0.02)


def answer_loss(model, ids, mask, labels, head):
    """Next-token CE on the answer tokens. head "full": [B, T, V] logits, as Hugging Face's model computes them;
    "answer-rows": the tied head applied to the answer positions' hidden states only (what our TrainingLoop does)."""
    targets = labels[:, 1:]
    if head == "full":
        logits = model(ids, mask)
        return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100), logits
    keep = targets != -100
    rows = model.hidden(ids, mask)[:, :-1][keep]
    logits = rows @ model.wte.weight.t()
    return F.cross_entropy(logits, targets[keep]), logits


def step_parts(model, opt, params, ids, mask, labels, warmup, steps):
    """Median seconds of the answer-rows step's parts. The graph is cut at the hidden states (a detached copy feeds the
    head), so the backward splits into the head's share and the body's, as in src/FedCoLLM.Cli/Bench/SftStepParts.cs."""
    names = ["batch", "body_forward", "head_loss_forward", "head_backward", "body_backward", "clip_adamw"]
    times = {n: [] for n in names}
    targets = labels[:, 1:]
    keep = targets != -100
    for step in range(warmup + steps):
        opt.zero_grad()
        t = [time.perf_counter()]
        t.append(time.perf_counter())  # the batch is already built: nothing to time
        hidden = model.hidden(ids, mask)
        t.append(time.perf_counter())
        cut = hidden.detach().requires_grad_()
        rows = cut[:, :-1][keep]
        loss = F.cross_entropy(rows @ model.wte.weight.t(), targets[keep])
        loss.item()
        t.append(time.perf_counter())
        loss.backward()
        t.append(time.perf_counter())
        hidden.backward(cut.grad)
        t.append(time.perf_counter())
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        t.append(time.perf_counter())
        if step >= warmup:
            for i, n in enumerate(names):
                times[n].append(t[i + 1] - t[i])
    return {n: statistics.median(v) for n, v in times.items()}


def mapped_libraries():
    """Shared libraries of this process that do linear algebra (/proc/self/maps), after torch has run a matmul."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if len(line.split()) >= 6}
    except OSError:
        return []
    return sorted(p for p in paths if any(k in p for k in ("blas", "mkl", "blis", "lapack")))


def anon_huge_pages_kb():
    """AnonHugePages summed over this process's mappings: > 0 once libtorch backs tensors with huge pages."""
    try:
        with open("/proc/self/smaps") as smaps:
            return sum(int(line.split()[1]) for line in smaps if line.startswith("AnonHugePages:"))
    except OSError:
        return None


def main():
    p = argparse.ArgumentParser()
    for name, default in [("vocab", 4096), ("ctx", 128), ("d", 256), ("layers", 4), ("heads", 4),
                          ("batch", 8), ("seq", 128), ("steps", 10), ("warmup", 2), ("threads", 2),
                          ("lora-r", 8), ("seed", 0)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--head", choices=["full", "answer-rows"], default="full")
    p.add_argument("--init", choices=["hf", "torch-default"], default="hf",
                   help="hf: GPT2PreTrainedModel._init_weights (N(0, 0.02), c_proj scaled); torch-default: N(0, 1) embeddings")
    p.add_argument("--parts", action="store_true",
                   help="time the step's parts (answer-rows head), split where SftStepParts.cs splits ours")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = Gpt2(a.vocab, a.ctx, a.d, a.layers, a.heads, a.lora_r)
    if a.init == "hf":
        hf_init(model, a.layers)
    for n, prm in model.named_parameters():
        prm.requires_grad = "lora_" in n
    params = [prm for prm in model.parameters() if prm.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq))
    mask = torch.ones(a.batch, a.seq, dtype=torch.long)
    labels = ids.clone()
    labels[:, : a.seq // 2] = -100  # first half is "prompt"
    if a.parts:
        json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(),
                   "parts": step_parts(model, opt, params, ids, mask, labels, a.warmup, a.steps)}, sys.stdout)
        return
    times, loss = [], float("nan")
    for step in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        l, logits = answer_loss(model, ids, mask, labels, a.head)
        del logits
        opt.zero_grad()
        l.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        loss = l.item()
        if step >= a.warmup:
            times.append(time.perf_counter() - t0)
    # One more, untimed, forward that reads the huge pages while the step's logits are alive.
    _, logits = answer_loss(model, ids, mask, labels, a.head)
    huge_kb = anon_huge_pages_kb()
    del logits
    median = statistics.median(times)
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "head": a.head,
               "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
               "thp_mem_alloc_enable": os.environ.get("THP_MEM_ALLOC_ENABLE"),
               "anon_huge_pages_kb": huge_kb,
               "blas_libraries": mapped_libraries(),
               "torch_config": torch.__config__.show(),
               "step_seconds_median": median, "tokens_per_second": a.batch * a.seq / median,
               "loss": loss}, sys.stdout)


if __name__ == "__main__":
    main()

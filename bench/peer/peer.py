#!/usr/bin/python3
"""PyTorch peer of PostTrain's LLaMA: same weights (model.safetensors), same batch, same AdamW step.

Run with Debian's python3-torch (/usr/bin/python3), not a pyenv interpreter. The C# harness (bench/PostTrain.Bench)
launches it and reads the JSON it prints on stdout; a human can run it by hand:

    /usr/bin/python3 bench/peer/peer.py --model DIR --batch batch.json [--quick]

It mirrors src/Model/Llama.cs op for op (RMSNorm in fp32, HF rotate_half RoPE, GQA by repeat_interleave), but writes
attention by hand, softmax(QK^T/sqrt(d) + mask) V, since PyTorch 1.13 has no F.scaled_dot_product_attention.
"""
import argparse
import json
import math
import os
import platform
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """8-byte little-endian header length, JSON header, raw little-endian data (the `safetensors` package is absent)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, expected one of {sorted(DTYPES)}")
        start, end = info["data_offsets"]
        arr = np.frombuffer(data, dtype=DTYPES[info["dtype"]], count=(end - start) // np.dtype(DTYPES[info["dtype"]]).itemsize,
                            offset=base + start)
        out[name] = torch.from_numpy(arr.copy()).reshape(info["shape"])
    return out


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(x.dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], -1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.nh, self.nkv = c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = c["hidden_size"] // self.nh
        C = c["hidden_size"]
        self.q_proj = nn.Linear(C, self.nh * self.hd, bias=False)
        self.k_proj = nn.Linear(C, self.nkv * self.hd, bias=False)
        self.v_proj = nn.Linear(C, self.nkv * self.hd, bias=False)
        self.o_proj = nn.Linear(self.nh * self.hd, C, bias=False)

    def forward(self, x, cos, sin, cache, layer):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.nh, self.hd).transpose(1, 2)   # (B, nh, T, hd)
        k = self.k_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)  # (B, nkv, T, hd)
        v = self.v_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        past = 0
        if cache is not None:
            past = cache.length
            k, v = cache.append(layer, k, v)                                # (B, nkv, S, hd)
        if self.nkv != self.nh:
            k = k.repeat_interleave(self.nh // self.nkv, dim=1)
            v = v.repeat_interleave(self.nh // self.nkv, dim=1)
        S = k.shape[2]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd)               # (B, nh, T, S)
        if T > 1:
            qpos = torch.arange(past, past + T).unsqueeze(1)
            kpos = torch.arange(S).unsqueeze(0)
            att = att.masked_fill(kpos > qpos, float("-inf"))
        y = F.softmax(att, dim=-1) @ v                                      # (B, nh, T, hd)
        y = y.transpose(1, 2).contiguous().view(B, T, self.nh * self.hd)
        return self.o_proj(y)


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        C, I = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = nn.Linear(C, I, bias=False)
        self.up_proj = nn.Linear(C, I, bias=False)
        self.down_proj = nn.Linear(I, C, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = Attention(c)
        self.mlp = Mlp(c)
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, x, cos, sin, cache, layer):
        h = x + self.self_attn(self.input_layernorm(x), cos, sin, cache, layer)
        return h + self.mlp(self.post_attention_layernorm(h))


class LlamaModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([DecoderLayer(c) for _ in range(c["num_hidden_layers"])])
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        hd = c["hidden_size"] // c["num_attention_heads"]
        inv = 1.0 / torch.pow(torch.tensor(c.get("rope_theta", 10000.0), dtype=torch.float64),
                              torch.arange(0, hd, 2, dtype=torch.float64) / hd)
        self.register_buffer("inv_freq", inv.float(), persistent=False)


class LlamaForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.model = LlamaModel(c)
        self.tied = bool(c.get("tie_word_embeddings", False))
        if not self.tied:
            self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)

    def forward(self, ids, cache=None):
        B, T = ids.shape
        past = cache.length if cache is not None else 0
        pos = torch.arange(past, past + T).unsqueeze(0).expand(B, T)
        freqs = pos.float().unsqueeze(-1) * self.model.inv_freq            # (B, T, hd/2)
        emb = torch.cat([freqs, freqs], -1).unsqueeze(1)                    # (B, 1, T, hd)
        cos, sin = emb.cos(), emb.sin()
        x = self.model.embed_tokens(ids)
        for i, layer in enumerate(self.model.layers):
            x = layer(x, cos, sin, cache, i)
        if cache is not None:
            cache.length += T
        h = self.model.norm(x)
        return F.linear(h, self.model.embed_tokens.weight) if self.tied else self.lm_head(h)


class KvCache:
    def __init__(self, c, batch, max_len):
        hd = c["hidden_size"] // c["num_attention_heads"]
        shape = (batch, c["num_key_value_heads"], max_len, hd)
        self.k = [torch.zeros(shape) for _ in range(c["num_hidden_layers"])]
        self.v = [torch.zeros(shape) for _ in range(c["num_hidden_layers"])]
        self.length = 0

    def append(self, layer, k, v):
        t = k.shape[2]
        self.k[layer][:, :, self.length:self.length + t] = k
        self.v[layer][:, :, self.length:self.length + t] = v
        return self.k[layer][:, :, :self.length + t], self.v[layer][:, :, :self.length + t]


def lm_loss(model, rows):
    T = rows.shape[1] - 1
    logits = model(rows[:, :T])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1))


def timed(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"median_s": float(np.median(times)), "min_s": float(min(times)), "iters": iters}


def sample(model, config, spec):
    """Sampling as PostTrain's Sampler does it: P equal-length prompts prefilled once, each cache row repeated for its N
    continuations, then `new_tokens` steps of softmax sampling (temperature 1) for all rows, in inference mode."""
    prompts = torch.tensor(spec["prompts"], dtype=torch.int64)
    n, steps = spec["n"], spec["new_tokens"]
    P, T = prompts.shape
    g = torch.Generator().manual_seed(1)
    runs = []
    with torch.inference_mode():
        for _ in range(2):  # the first is a warm-up
            t0 = time.perf_counter()
            cache = KvCache(config, P, T + steps)
            logits = model(prompts, cache)[:, -1]
            rows = torch.arange(P).repeat_interleave(n)
            cache.k = [k.index_select(0, rows) for k in cache.k]
            cache.v = [v.index_select(0, rows) for v in cache.v]
            logits = logits.index_select(0, rows)
            t1 = time.perf_counter()
            for _ in range(steps):
                nxt = torch.multinomial(torch.softmax(logits, -1), 1, generator=g)
                logits = model(nxt, cache)[:, -1]
            runs.append((t1 - t0, time.perf_counter() - t1))
    prefill, decode = runs[-1]
    rows = P * n
    return {"rows": rows, "prefill_s": prefill, "decode_s": decode, "decode_tokens_per_s": rows * steps / decode}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="directory with config.json and model.safetensors")
    ap.add_argument("--batch", help="JSON: rows (B, T+1), adamw {lr, beta1, beta2, eps, weight_decay, clip}, decode {batch, prompt, steps}")
    ap.add_argument("--sample", help="JSON: prompts (P, T), n, new_tokens; times batched sampling only")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--gemm", type=int, default=2048, help="square GEMM size for this interpreter's ceiling; 0 skips")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    with open(os.path.join(a.model, "config.json")) as f:
        config = json.load(f)
    model = LlamaForCausalLM(config)
    state = read_safetensors(os.path.join(a.model, "model.safetensors"))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise SystemExit(f"{a.model}/model.safetensors: missing {missing}, unexpected {unexpected}")
    if a.sample:
        with open(a.sample) as f:
            result = sample(model, config, json.load(f))
        json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "sample": result}, sys.stdout, indent=1)
        return
    if not a.batch:
        raise SystemExit("pass --batch SPEC.json (training and decode-step timings) or --sample SPEC.json (sampling)")
    with open(a.batch) as f:
        spec = json.load(f)
    rows = torch.tensor(spec["rows"], dtype=torch.int64)
    o = spec["adamw"]
    opt = torch.optim.AdamW(model.parameters(), lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"], weight_decay=o["weight_decay"])

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = lm_loss(model, rows)
        loss.backward()
        if o["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), o["clip"])
        opt.step()
        return loss

    with torch.no_grad():
        loss0 = lm_loss(model, rows).item()
    train_step()
    with torch.no_grad():
        loss1 = lm_loss(model, rows).item()

    T = rows.shape[1] - 1
    def forward():
        with torch.no_grad():
            model(rows[:, :T])
    fwd = timed(forward, a.warmup, a.iters)
    step = timed(train_step, a.warmup, a.iters)

    d = spec["decode"]
    g = torch.Generator().manual_seed(1)
    prompt = torch.randint(0, config["vocab_size"], (d["batch"], d["prompt"]), generator=g)
    nxt = torch.randint(0, config["vocab_size"], (d["batch"], 1), generator=g)
    decode_times = []
    with torch.no_grad():
        for rep in range(a.warmup + 1):
            cache = KvCache(config, d["batch"], d["prompt"] + d["steps"])
            model(prompt, cache)
            for _ in range(d["steps"]):
                t0 = time.perf_counter()
                model(nxt, cache)
                if rep == a.warmup:
                    decode_times.append(time.perf_counter() - t0)
    decode = {"median_s": float(np.median(decode_times)), "min_s": float(min(decode_times)), "iters": len(decode_times)}

    gemm = None
    if a.gemm > 0:
        n = a.gemm
        x, y = torch.randn(n, n), torch.randn(n, n)
        r = timed(lambda: torch.mm(x, y), 1, 3)
        gemm = {"n": n, "gflops": 2 * n ** 3 / r["median_s"] / 1e9, **r}

    json.dump({
        "python": platform.python_version(), "executable": sys.executable, "torch": torch.__version__,
        "numpy": np.__version__, "threads": torch.get_num_threads(),
        "blas": "see torch.__config__.show()", "config": torch.__config__.show().splitlines()[:12],
        "loss_initial": loss0, "loss_after_step": loss1,
        "forward": fwd, "train_step": step, "decode_step": decode, "gemm": gemm,
    }, sys.stdout, indent=1)


if __name__ == "__main__":
    main()

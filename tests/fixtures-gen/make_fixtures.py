#!/usr/bin/python3
"""Reference values for PostTrain's numerics tests, computed independently of TorchSharp.

Run with Debian's PyTorch (1.13; no scaled_dot_product_attention, no transformers, no safetensors package):
    /usr/bin/python3 tests/fixtures-gen/make_fixtures.py
It writes small safetensors files (and two Hugging Face-style checkpoint directories) to
tests/PostTrain.Model.Tests/Fixtures/. Inputs and weights are float32 (or BF16/F16 for the HF dirs); reference
outputs are computed in float64 from exactly the stored values, then stored as float32, so the C# float32 network
is compared against the true value rather than against another float32 rounding path.

Conventions follow Hugging Face's modeling_llama.py: RMSNorm in fp32, RoPE "rotate_half" (two halves, not interleaved
pairs), repeat_kv giving each K/V head to n_rep consecutive query heads, SwiGLU down(silu(gate(x)) * up(x)).
"""
import json
import math
import os
import struct

import torch

torch.set_num_threads(2)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "PostTrain.Model.Tests", "Fixtures")
DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.bfloat16: "BF16", torch.float16: "F16"}


def save_safetensors(path, tensors, metadata=None):
    """Minimal safetensors writer (the format is 8-byte LE header length + JSON header + raw LE data)."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if t.dtype in (torch.bfloat16, torch.float16):
            raw = t.view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---- reference implementation (float64) -------------------------------------------------------------------------

def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope_cos_sin(positions, head_dim, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))  # (hd/2,)
    freqs = positions.double()[..., None] * inv_freq                                              # (B, T, hd/2)
    emb = torch.cat([freqs, freqs], -1)[:, None]                                                  # (B, 1, T, hd)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


def apply_rope(x, cos, sin):
    return x * cos + rotate_half(x) * sin


def mlp(x, gate, up, down, bg=None, bu=None, bd=None):
    def lin(h, w, b):
        return h @ w.T + (b if b is not None else 0)
    return lin(torch.nn.functional.silu(lin(x, gate, bg)) * lin(x, up, bu), down, bd)


# ---- rope_scaling, written from transformers' documented formulas (modeling_rope_utils), float64 ----------------

def scaled_inv_freq(head_dim, theta, scaling, max_pos, seq_len):
    """Returns (inv_freq (hd/2,), attention_scaling) for rope_scaling types default, linear, dynamic, llama3, yarn."""
    def base_inv(b):
        return 1.0 / (b ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    inv = base_inv(theta)
    kind = (scaling or {}).get("rope_type", (scaling or {}).get("type", "default"))
    if kind == "default":
        return inv, 1.0
    factor = scaling["factor"]
    if kind == "linear":
        return inv / factor, 1.0
    if kind == "dynamic":
        if seq_len <= max_pos:
            return inv, 1.0
        b = theta * ((factor * seq_len / max_pos) - (factor - 1)) ** (head_dim / (head_dim - 2))
        return base_inv(b), 1.0
    if kind == "llama3":
        orig, lo, hi = scaling["original_max_position_embeddings"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        wavelen = 2 * math.pi / inv
        out = inv.clone()
        for i in range(len(inv)):
            if wavelen[i] < orig / hi:
                continue
            if wavelen[i] > orig / lo:
                out[i] = inv[i] / factor
            else:
                s = (orig / wavelen[i] - lo) / (hi - lo)
                out[i] = (1 - s) * inv[i] / factor + s * inv[i]
        return out, 1.0
    if kind == "yarn":
        orig = scaling.get("original_max_position_embeddings", max_pos)
        if "original_max_position_embeddings" in scaling:
            factor = max_pos / orig
        def mscale(sc, m=1.0):
            return 1.0 if sc <= 1 else 0.1 * m * math.log(sc) + 1.0
        att = scaling.get("attention_factor")
        if att is None:
            att = mscale(factor, scaling["mscale"]) / mscale(factor, scaling["mscale_all_dim"]) \
                if scaling.get("mscale") and scaling.get("mscale_all_dim") else mscale(factor)
        def corr(rot):
            return head_dim * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(theta))
        lo, hi = corr(scaling.get("beta_fast", 32)), corr(scaling.get("beta_slow", 1))
        if scaling.get("truncate", True):
            lo, hi = math.floor(lo), math.ceil(hi)
        lo, hi = max(lo, 0), min(hi, head_dim - 1)
        if lo == hi:
            hi += 0.001
        ramp = ((torch.arange(head_dim // 2, dtype=torch.float64) - lo) / (hi - lo)).clamp(0, 1)
        extra = 1 - ramp
        return (inv / factor) * (1 - extra) + inv * extra, att
    raise ValueError(kind)


def scaled_cos_sin(positions, head_dim, theta, scaling, max_pos):
    inv, att = scaled_inv_freq(head_dim, theta, scaling, max_pos, int(positions.max()) + 1)
    freqs = positions.double()[..., None] * inv
    emb = torch.cat([freqs, freqs], -1)[:, None]
    return emb.cos() * att, emb.sin() * att


def attention(x, positions, wq, wk, wv, wo, n_head, n_kv, theta):
    B, T, C = x.shape
    hd = C // n_head
    q = (x @ wq.T).view(B, T, n_head, hd).transpose(1, 2)  # (B, nh, T, hd)
    k = (x @ wk.T).view(B, T, n_kv, hd).transpose(1, 2)    # (B, nkv, T, hd)
    v = (x @ wv.T).view(B, T, n_kv, hd).transpose(1, 2)
    cos, sin = rope_cos_sin(positions, hd, theta)
    q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    k = k.repeat_interleave(n_head // n_kv, dim=1)          # (B, nh, T, hd)
    v = v.repeat_interleave(n_head // n_kv, dim=1)
    scores = q @ k.transpose(-1, -2) / math.sqrt(hd)        # (B, nh, T, T)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    scores = scores.masked_fill(~causal, float("-inf"))
    y = scores.softmax(-1) @ v                              # (B, nh, T, hd)
    return y.transpose(1, 2).reshape(B, T, C) @ wo.T


def full_attention(cfg, sd, p, x, positions):
    """HF LlamaAttention with head_dim, biases and rope_scaling."""
    B, T, C = x.shape
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or C // nh

    def proj(name, h):
        return h @ sd[p + "self_attn." + name + ".weight"].T + sd.get(p + "self_attn." + name + ".bias", 0)
    q = proj("q_proj", x).view(B, T, nh, hd).transpose(1, 2)
    k = proj("k_proj", x).view(B, T, nkv, hd).transpose(1, 2)
    v = proj("v_proj", x).view(B, T, nkv, hd).transpose(1, 2)
    cos, sin = scaled_cos_sin(positions, hd, cfg["rope_theta"], cfg.get("rope_scaling"), cfg["max_position_embeddings"])
    q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    k = k.repeat_interleave(nh // nkv, dim=1)
    v = v.repeat_interleave(nh // nkv, dim=1)
    scores = q @ k.transpose(-1, -2) / math.sqrt(hd)
    scores = scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
    y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, nh * hd)
    return proj("o_proj", y)


def final_hidden(cfg, sd, ids):
    """The decoder stack: the final normed hidden states (B, T, C)."""
    B, T = ids.shape
    positions = torch.arange(T)[None].expand(B, T)
    x = sd["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, sd[p + "input_layernorm.weight"], cfg["rms_norm_eps"])
        x = x + full_attention(cfg, sd, p, h, positions)
        h = rms_norm(x, sd[p + "post_attention_layernorm.weight"], cfg["rms_norm_eps"])
        x = x + mlp(h, sd[p + "mlp.gate_proj.weight"], sd[p + "mlp.up_proj.weight"], sd[p + "mlp.down_proj.weight"],
                    sd.get(p + "mlp.gate_proj.bias"), sd.get(p + "mlp.up_proj.bias"), sd.get(p + "mlp.down_proj.bias"))
    return rms_norm(x, sd["model.norm.weight"], cfg["rms_norm_eps"])


def llama_forward(cfg, sd, ids):
    head = sd["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else sd["lm_head.weight"]
    return final_hidden(cfg, sd, ids) @ head.T                # (B, T, V)


# ---- fixtures ----------------------------------------------------------------------------------------------------

def f32(t):
    return t.to(torch.float32)


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(1234)

    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=g) * scale

    # RMSNorm
    x, w = randn(2, 5, 16), 1 + randn(16, scale=0.1)
    save_safetensors(f"{OUT}/rmsnorm.safetensors", {"x": x, "weight": w, "y": f32(rms_norm(x.double(), w.double(), 1e-5))},
                     {"eps": 1e-5})

    # RoPE at two bases, with non-trivial positions (a ragged row that starts late)
    x = randn(2, 3, 6, 8)
    positions = torch.tensor([[0, 1, 2, 3, 4, 5], [7, 8, 9, 10, 11, 40]], dtype=torch.int64)
    rope = {"x": x, "positions": positions}
    for theta in (10000.0, 500000.0):
        cos, sin = rope_cos_sin(positions, 8, theta)
        rope[f"y_theta{int(theta)}"] = f32(apply_rope(x.double(), cos, sin))
    save_safetensors(f"{OUT}/rope.safetensors", rope)

    # SwiGLU MLP (hidden 16, intermediate 40)
    x, gate, up, down = randn(2, 5, 16), randn(40, 16, scale=0.3), randn(40, 16, scale=0.3), randn(16, 40, scale=0.3)
    save_safetensors(f"{OUT}/mlp.safetensors", {
        "x": x, "gate_proj.weight": gate, "up_proj.weight": up, "down_proj.weight": down,
        "y": f32(mlp(x.double(), gate.double(), up.double(), down.double()))})

    # GQA causal attention: hidden 32, 4 query heads, 2 K/V heads (n_rep 2), head_dim 8, rope_theta 500000
    C, nh, nkv, T = 32, 4, 2, 7
    x = randn(2, T, C)
    wq, wk, wv, wo = randn(C, C, scale=0.2), randn(nkv * 8, C, scale=0.2), randn(nkv * 8, C, scale=0.2), randn(C, C, scale=0.2)
    positions = torch.arange(T)[None].expand(2, T).contiguous()
    y = attention(x.double(), positions, wq.double(), wk.double(), wv.double(), wo.double(), nh, nkv, 500000.0)
    save_safetensors(f"{OUT}/attention.safetensors", {
        "x": x, "positions": positions, "q_proj.weight": wq, "k_proj.weight": wk, "v_proj.weight": wv,
        "o_proj.weight": wo, "y": f32(y)}, {"hidden_size": C, "num_attention_heads": nh, "num_key_value_heads": nkv,
                                            "rope_theta": 500000.0})

    # Full tiny LLaMA, written as Hugging Face checkpoint directories.
    base = {"vocab_size": 50, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
            "max_position_embeddings": 64, "hidden_act": "silu", "model_type": "llama",
            "architectures": ["LlamaForCausalLM"], "attention_bias": False, "mlp_bias": False,
            "initializer_range": 0.02, "bos_token_id": 1, "eos_token_id": 2,
            # HF extras PostTrain ignores
            "rope_scaling": None, "use_cache": True, "transformers_version": "4.40.0", "pretraining_tp": 1}
    ids = torch.randint(0, 50, (2, 9), generator=g)
    fixtures = {"input_ids": ids}
    for case, tied, dtype, sharded in (("hf-tiny-bf16", False, torch.bfloat16, False), ("hf-tiny-f16-sharded-tied", True, torch.float16, True)):
        cfg = dict(base, tie_word_embeddings=tied, torch_dtype="bfloat16" if dtype == torch.bfloat16 else "float16")
        sd = {"model.embed_tokens.weight": randn(50, 32, scale=0.5), "model.norm.weight": 1 + randn(32, scale=0.1)}
        if not tied:
            sd["lm_head.weight"] = randn(50, 32, scale=0.2)
        for i in range(2):
            p = f"model.layers.{i}."
            sd.update({p + "self_attn.q_proj.weight": randn(32, 32, scale=0.2), p + "self_attn.k_proj.weight": randn(16, 32, scale=0.2),
                       p + "self_attn.v_proj.weight": randn(16, 32, scale=0.2), p + "self_attn.o_proj.weight": randn(32, 32, scale=0.2),
                       p + "mlp.gate_proj.weight": randn(64, 32, scale=0.2), p + "mlp.up_proj.weight": randn(64, 32, scale=0.2),
                       p + "mlp.down_proj.weight": randn(32, 64, scale=0.2),
                       p + "input_layernorm.weight": 1 + randn(32, scale=0.1), p + "post_attention_layernorm.weight": 1 + randn(32, scale=0.1)})
        stored = {k: v.to(dtype) for k, v in sd.items()}
        # Older HF checkpoints persist the rotary buffer; loaders must ignore it.
        stored["model.layers.0.self_attn.rotary_emb.inv_freq"] = (1.0 / 500000.0 ** (torch.arange(0, 8, 2).float() / 8)).to(dtype)
        d = f"{OUT}/{case}"
        os.makedirs(d, exist_ok=True)
        with open(f"{d}/config.json", "w") as f:
            json.dump(cfg, f, indent=2)
        if sharded:
            names = sorted(stored)
            shards = {"model-00001-of-00002.safetensors": names[: len(names) // 2], "model-00002-of-00002.safetensors": names[len(names) // 2:]}
            weight_map = {}
            for fname, keys in shards.items():
                save_safetensors(f"{d}/{fname}", {k: stored[k] for k in keys}, {"format": "pt"})
                weight_map.update({k: fname for k in keys})
            with open(f"{d}/model.safetensors.index.json", "w") as f:
                json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)
        else:
            save_safetensors(f"{d}/model.safetensors", stored, {"format": "pt"})
        # The reference runs on exactly the stored (rounded) weights.
        exact = {k: v.double() for k, v in stored.items()}
        fixtures[f"logits_{case}"] = f32(llama_forward(cfg, exact, ids))
    save_safetensors(f"{OUT}/llama_forward.safetensors", fixtures)
    scaled_fixtures(g, randn)


def write_hf_dir(d, cfg, stored):
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/config.json", "w") as f:
        json.dump(cfg, f, indent=2)
    save_safetensors(f"{d}/model.safetensors", stored, {"format": "pt"})


def scaled_fixtures(g, randn):
    """rope_scaling of every kind (cos/sin), and two full forwards: llama3 RoPE with biases and head_dim != hidden/heads
    (untied), and yarn RoPE tied. T = 48 positions so the scaled frequencies move the logits."""
    positions = torch.tensor([[0, 1, 2, 3, 30, 63], [100, 200, 255, 256, 300, 511]], dtype=torch.int64)
    rope = {"positions": positions}
    cases = {
        "linear": {"rope_type": "linear", "factor": 4.0},
        "dynamic": {"type": "dynamic", "factor": 2.0},
        "llama3": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 256},
        "yarn": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 128, "beta_fast": 32, "beta_slow": 1},
        "yarn_mscale": {"rope_type": "yarn", "factor": 8.0, "mscale": 0.707, "mscale_all_dim": 1.0},
    }
    meta = {}
    for name, scaling in cases.items():
        cos, sin = scaled_cos_sin(positions, 16, 10000.0, scaling, 512 if name != "dynamic" else 256)
        rope[f"cos_{name}"], rope[f"sin_{name}"] = f32(cos), f32(sin)
        meta[name] = json.dumps(scaling)
    save_safetensors(f"{OUT}/rope_scaling.safetensors", rope, meta)

    V, C, L, nh, nkv, hd, I = 40, 32, 2, 4, 2, 16, 48
    ids = torch.randint(0, V, (2, 48), generator=g)
    out = {"input_ids": ids}
    for case, tied, bias, scaling in (
            ("hf-tiny-llama3-bias-headdim", False, True,
             {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64}),
            ("hf-tiny-yarn-tied", True, False, {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32})):
        cfg = {"vocab_size": V, "hidden_size": C, "intermediate_size": I, "num_hidden_layers": L, "num_attention_heads": nh,
               "num_key_value_heads": nkv, "head_dim": hd, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
               "max_position_embeddings": 128, "hidden_act": "silu", "model_type": "llama", "architectures": ["LlamaForCausalLM"],
               "attention_bias": bias, "mlp_bias": bias, "attention_dropout": 0.0, "initializer_range": 0.02,
               "bos_token_id": 1, "eos_token_id": [2, 3], "tie_word_embeddings": tied, "rope_scaling": scaling,
               "torch_dtype": "float32", "use_cache": True, "transformers_version": "4.45.0", "pretraining_tp": 1}
        sd = {"model.embed_tokens.weight": randn(V, C, scale=0.5), "model.norm.weight": 1 + randn(C, scale=0.1)}
        if not tied:
            sd["lm_head.weight"] = randn(V, C, scale=0.2)
        for i in range(L):
            p = f"model.layers.{i}."
            shapes = {"self_attn.q_proj": (nh * hd, C), "self_attn.k_proj": (nkv * hd, C), "self_attn.v_proj": (nkv * hd, C),
                      "self_attn.o_proj": (C, nh * hd), "mlp.gate_proj": (I, C), "mlp.up_proj": (I, C), "mlp.down_proj": (C, I)}
            for name, shape in shapes.items():
                sd[p + name + ".weight"] = randn(*shape, scale=0.2)
                if bias:
                    sd[p + name + ".bias"] = randn(shape[0], scale=0.1)
            sd[p + "input_layernorm.weight"] = 1 + randn(C, scale=0.1)
            sd[p + "post_attention_layernorm.weight"] = 1 + randn(C, scale=0.1)
        write_hf_dir(f"{OUT}/{case}", cfg, sd)
        logits = llama_forward(cfg, {k: v.double() for k, v in sd.items()}, ids)
        logp = torch.log_softmax(logits, -1)[:, :-1].gather(-1, ids[:, 1:, None]).squeeze(-1)  # (B, T-1) log p(next id)
        out[f"logprobs_{case}"] = f32(logp)
    save_safetensors(f"{OUT}/llama_scaled_forward.safetensors", out)
    seqcls_fixture(g, randn)


def seqcls_fixture(g, randn):
    """An untied HF LlamaForSequenceClassification (no lm_head, score.weight [1, C], num_labels 1, pad_token_id 0) and
    its scores on a right-padded batch, read as HF does: at each row's last token that is not the pad."""
    V, C, L, nh, nkv, I = 40, 32, 2, 4, 2, 64
    cfg = {"vocab_size": V, "hidden_size": C, "intermediate_size": I, "num_hidden_layers": L, "num_attention_heads": nh,
           "num_key_value_heads": nkv, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 64,
           "hidden_act": "silu", "model_type": "llama", "architectures": ["LlamaForSequenceClassification"],
           "num_labels": 1, "pad_token_id": 0, "tie_word_embeddings": False, "torch_dtype": "float32"}
    sd = {"model.embed_tokens.weight": randn(V, C, scale=0.5), "model.norm.weight": 1 + randn(C, scale=0.1),
          "score.weight": randn(1, C, scale=0.3)}
    for i in range(L):
        p = f"model.layers.{i}."
        for name, shape in {"self_attn.q_proj": (C, C), "self_attn.k_proj": (nkv * 8, C), "self_attn.v_proj": (nkv * 8, C),
                            "self_attn.o_proj": (C, C), "mlp.gate_proj": (I, C), "mlp.up_proj": (I, C), "mlp.down_proj": (C, I)}.items():
            sd[p + name + ".weight"] = randn(*shape, scale=0.2)
        sd[p + "input_layernorm.weight"] = 1 + randn(C, scale=0.1)
        sd[p + "post_attention_layernorm.weight"] = 1 + randn(C, scale=0.1)
    write_hf_dir(f"{OUT}/hf-tiny-seqcls", cfg, sd)
    lengths = torch.tensor([12, 7, 9])
    ids = torch.randint(1, V, (3, 12), generator=g)
    ids[torch.arange(12)[None] >= lengths[:, None]] = 0
    h = final_hidden(cfg, {k: v.double() for k, v in sd.items()}, ids)
    logits = h @ sd["score.weight"].double().T                                    # (B, T, 1)
    last = (torch.arange(12)[None] * (ids != cfg["pad_token_id"])).argmax(-1)     # HF: last non-pad token
    save_safetensors(f"{OUT}/seqcls_scores.safetensors", {"input_ids": ids, "lengths": lengths,
                                                          "scores": f32(logits[torch.arange(3), last, 0])})


if __name__ == "__main__":
    main()

"""PyTorch reference fixtures of optbench-models' transformer layers and networks (imported by
scripts/gen_reference.py, the entry point: `.venv/bin/python scripts/gen_reference.py
transformer`).

The modules are those of docs/networks.md (`transformer`): token and learned position
embeddings, pre-LN blocks `x + attn(ln1(x))`, `x + mlp(ln2(x))` with causal multi-head
attention through `F.scaled_dot_product_attention(is_causal=True)`, a final layer norm and a
linear head without bias, optionally tied to the token embedding.

Output, in crates/models/tests/data/ (formats as scripts/reference_models.py describes):

transformer_layers.json + .safetensors -- one case per layer (token embedding, position
    embedding, causal attention with 1 to 3 heads, GELU in both forms, a linear layer without
    bias, the last position): "<id>/input" (token ids as int64 for the embedding, else float32,
    shape (N, T, C)), "<id>/upstream", "<id>/output", "<id>/grad_input" (not for token ids),
    "<id>/param/<name>", "<id>/grad/<name>"; the JSON has the case list with "layer" (how
    optbench builds it), "input_shape" and the f32-vs-f64 "drift" of every tensor.
transformer_nets.json + .safetensors -- two models on fixed tokens, from generated weights
    (salt, offset, scale per tensor, as reference_models.py's `generated`):
    "nonorm_1layer" (1 layer, no layer norm, ReLU, target: last: the loss is the cross-entropy
    of the last position's logits) and "preln_2layer_tied" (2 pre-LN layers, tanh GELU, tied
    embeddings, target: all: the mean cross-entropy over every position). Stored: "<id>/tokens"
    (N, T+1): inputs are tokens[:, :T], targets tokens[:, 1:] (target: all) or tokens[:, T]
    (target: last); "<id>/logits" (N, T, V); "<id>/grad/<name>" for every parameter; the JSON
    has the loss (float32 and float64) and the drifts.
transformer_e2e.json -- 20 AdamW steps on each of the two models from its generated weights, on
    32 generated sequences (salt "data_salt": token = floor((u + 1) / 2 · V)), batches of 8 in
    order (step t uses sequences (8t + j) mod 32): the loss at every step, float32 and the
    relative f32-vs-f64 drift.
"""

from __future__ import annotations

import json
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from reference_models import DATA, drift, generated, save_safetensors, uniform, write_fixture


# ---------------------------------------------------------------------------------------------
# the modules of docs/networks.md


class CausalSelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        return self.proj(attention_core(self.qkv(x), self.heads))


def attention_core(qkv, heads):
    """The parameter-free part: (B, T, 3d) -> (B, T, d)."""
    B, T, d3 = qkv.shape
    d = d3 // 3
    q, k, v = qkv.split(d, dim=2)
    q, k, v = (t.view(B, T, heads, d // heads).transpose(1, 2) for t in (q, k, v))
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    return y.transpose(1, 2).reshape(B, T, d)


class MLP(nn.Module):
    def __init__(self, d, d_mlp, act):
        super().__init__()
        self.fc = nn.Linear(d, d_mlp)
        self.act = act
        self.proj = nn.Linear(d_mlp, d)

    def forward(self, x):
        return self.proj(self.act(self.fc(x)))


class Block(nn.Module):
    def __init__(self, d, heads, d_mlp, act, norm):
        super().__init__()
        self.ln1 = nn.LayerNorm(d) if norm else nn.Identity()
        self.attn = CausalSelfAttention(d, heads)
        self.ln2 = nn.LayerNorm(d) if norm else nn.Identity()
        self.mlp = MLP(d, d_mlp, act)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Transformer(nn.Module):
    def __init__(self, vocab, context, d, layers, heads, d_mlp, act, norm=True, tie=False):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab, d)
        self.pos_emb = nn.Embedding(context, d)
        self.blocks = nn.ModuleList(Block(d, heads, d_mlp, act, norm) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d) if norm else nn.Identity()
        self.head = nn.Linear(d, vocab, bias=False)
        if tie:
            self.head.weight = self.tok_emb.weight

    def forward(self, idx):
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


# ---------------------------------------------------------------------------------------------
# layers


class PositionAdd(nn.Module):
    """x + pos_emb(arange(T)) with pos_emb = nn.Embedding(context, d): optbench's position layer."""

    def __init__(self, context, d):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(context, d))

    def forward(self, x):
        return x + self.weight[: x.shape[1]]


class Fn(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(x)


def layer_cases():
    """(id, optbench layer description, module factory, input shape, token vocabulary or None)."""
    C = [
        ("embedding", {"type": "embedding", "vocab": 11, "dim": 6},
         lambda: nn.Embedding(11, 6), (2, 5), 11),
        ("position_embedding", {"type": "position_embedding", "context": 7},
         lambda: PositionAdd(7, 6), (2, 5, 6), None),
        ("linear_no_bias", {"type": "linear_no_bias", "out": 5},
         lambda: nn.Linear(6, 5, bias=False), (2, 3, 6), None),
        ("gelu_tanh", {"type": "activation", "activation": "gelu_tanh"},
         lambda: nn.GELU(approximate="tanh"), (3, 5, 8), None),
        ("last_position", {"type": "last_position"}, lambda: Fn(lambda x: x[:, -1:]),
         (2, 4, 6), None),
    ]
    for cid, heads, shape in [("attention_1head", 1, (3, 4, 3 * 8)),
                              ("attention_2heads", 2, (2, 5, 3 * 8)),
                              ("attention_3heads", 3, (2, 7, 3 * 12))]:
        C.append((cid, {"type": "attention", "heads": heads},
                  lambda heads=heads: Fn(lambda x: attention_core(x, heads)), shape, None))
    return C


def run_layer(module, x, r, dtype, vocab):
    m = module.to(dtype)
    xi = x if vocab is not None else x.to(dtype).clone().requires_grad_(True)
    y = m(xi)
    (y * r.to(dtype)).sum().backward()
    gx = None if vocab is not None else xi.grad.detach()
    return (y.detach(), gx, [p.detach().clone() for p in m.parameters()],
            [p.grad.detach().clone() for p in m.parameters()],
            [n for n, _ in m.named_parameters()])


def gen_layers() -> None:
    import copy

    cases, tensors = [], {}
    for k, (cid, desc, make, shape, vocab) in enumerate(layer_cases()):
        g = torch.Generator().manual_seed(3000 + k)
        torch.manual_seed(4000 + k)
        module = make()
        if vocab is not None:
            x = torch.randint(0, vocab, shape, generator=g)
        else:
            x = torch.randn(shape, generator=g)
            if desc["type"] == "attention":
                x = 2.0 * x  # sharper softmax rows than unit-variance logits give
        with torch.no_grad():
            for p in module.parameters():
                p.add_(0.1 * torch.randn(p.shape, generator=g))
            out_shape = module(x).shape
        r = torch.randn(out_shape, generator=g)
        y, gx, params, grads, names = run_layer(copy.deepcopy(module), x, r, torch.float32, vocab)
        y64, gx64, _, grads64, _ = run_layer(copy.deepcopy(module), x, r, torch.float64, vocab)
        d = {"output": drift(y, y64)}
        tensors[f"{cid}/input"] = x
        tensors[f"{cid}/upstream"] = r
        tensors[f"{cid}/output"] = y
        if gx is not None:
            d["grad_input"] = drift(gx, gx64)
            tensors[f"{cid}/grad_input"] = gx
        for n, p, gr, gr64 in zip(names, params, grads, grads64):
            tensors[f"{cid}/param/{n}"] = p
            tensors[f"{cid}/grad/{n}"] = gr
            d[f"grad/{n}"] = drift(gr, gr64)
        cases.append({"id": cid, "layer": desc, "input_shape": list(shape), "params": names,
                      "drift": d})
        print(f"  transformer layer {cid}: max drift {max(d.values()):.2e}")
    write_fixture("transformer_layers", cases, tensors,
                  "PyTorch's output and gradients of the transformer layers on fixed inputs "
                  "(see scripts/reference_transformer.py)")


# ---------------------------------------------------------------------------------------------
# networks

NETS = {
    # id: (optbench problem keys, vocabulary, tokens per input, target)
    "nonorm_1layer": ({"layers": 1, "d_model": 16, "heads": 2, "d_mlp": 32, "context": 6,
                       "norm": "none", "mlp_activation": "relu", "tie_embeddings": False},
                      13, 4, "last"),
    "preln_2layer_tied": ({"layers": 2, "d_model": 16, "heads": 4, "d_mlp": 64, "context": 8,
                           "norm": "pre", "mlp_activation": "gelu_tanh",
                           "tie_embeddings": True}, 11, 8, "all"),
}


def build(keys, vocab, dtype):
    act = {"relu": nn.ReLU(), "gelu": nn.GELU(),
           "gelu_tanh": nn.GELU(approximate="tanh")}[keys["mlp_activation"]]
    model = Transformer(vocab, keys["context"], keys["d_model"], keys["layers"], keys["heads"],
                        keys["d_mlp"], act, keys["norm"] == "pre", keys["tie_embeddings"])
    return model.to(dtype)


def generated_weights(model, salt0):
    """Generated values for every parameter (layer-norm weights 1 ± 0.1, biases ±0.1, matrices
    ±1/√fan_in); returns (name, shape, salt, offset, scale) per tensor."""
    spec = []
    with torch.no_grad():
        for j, (name, p) in enumerate(model.named_parameters()):
            salt = salt0 + j
            if p.dim() > 1:
                offset, scale = 0.0, 1.0 / math.sqrt(p.shape[1])
            elif ".ln" in name or name.startswith("ln"):
                offset, scale = (1.0, 0.1) if name.endswith("weight") else (0.0, 0.1)
            else:
                offset, scale = 0.0, 0.1
            p.copy_(generated(salt, tuple(p.shape), offset, scale).to(p.dtype))
            spec.append({"name": name, "shape": list(p.shape), "salt": salt, "offset": offset,
                         "scale": scale})
    return spec


def tokens_of(salt, shape, vocab):
    u = uniform(salt, int(np.prod(shape)))
    return torch.from_numpy(np.floor((u + 1.0) / 2.0 * vocab).astype(np.int64).reshape(shape))


def loss_of(logits, seq, t_len, target):
    if target == "last":
        return F.cross_entropy(logits[:, -1], seq[:, t_len])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), seq[:, 1:].reshape(-1))


def forward_backward(name, dtype, seq, salt0):
    keys, vocab, t_len, target = NETS[name]
    model = build(keys, vocab, dtype)
    spec = generated_weights(model, salt0)
    logits = model(seq[:, :t_len])
    loss = loss_of(logits, seq, t_len, target)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    return loss.detach(), logits.detach(), grads, spec


def gen_nets() -> None:
    cases, tensors = [], {}
    for k, name in enumerate(NETS):
        keys, vocab, t_len, target = NETS[name]
        seq = tokens_of(800 + k, (3, t_len + 1), vocab)
        salt0 = 20_000 * (k + 1)
        l32, o32, g32, spec = forward_backward(name, torch.float32, seq, salt0)
        l64, o64, g64, _ = forward_backward(name, torch.float64, seq, salt0)
        d = {"loss": drift(l32, l64), "output": drift(o32, o64)}
        for t in spec:
            n = t["name"]
            tensors[f"{name}/grad/{n}"] = g32[n]
            d[f"grad/{n}"] = drift(g32[n], g64[n])
        tensors[f"{name}/tokens"] = seq
        tensors[f"{name}/logits"] = o32
        cases.append({"id": name, "keys": keys, "vocab": vocab, "tokens": t_len,
                      "target": target, "batch": 3, "loss": l32.item(), "loss64": l64.item(),
                      "weights": spec, "drift": d})
        print(f"  transformer {name}: loss {l32.item():.6f}, max drift {max(d.values()):.2e}")
    write_fixture("transformer_nets", cases, tensors,
                  "PyTorch's loss, logits and gradients of two transformers (see "
                  "scripts/reference_transformer.py)")


E2E_HPARAMS = {
    "nonorm_1layer": {"lr": 0.01, "weight_decay": 1.0, "betas": [0.9, 0.98]},
    "preln_2layer_tied": {"lr": 3e-3, "weight_decay": 0.1},
}


def e2e_run(name, dtype, salt0, steps=20, n=32, batch=8):
    keys, vocab, t_len, target = NETS[name]
    model = build(keys, vocab, dtype)
    spec = generated_weights(model, salt0)
    seqs = tokens_of(salt0 + 999, (n, t_len + 1), vocab)
    hp = E2E_HPARAMS[name]
    kwargs = {k: (tuple(v) if k == "betas" else v) for k, v in hp.items()}
    opt = torch.optim.AdamW(model.parameters(), foreach=False, fused=False, **kwargs)
    losses = []
    for t in range(steps):
        idx = [(batch * t + j) % n for j in range(batch)]
        opt.zero_grad()
        seq = seqs[idx]
        loss = loss_of(model(seq[:, :t_len]), seq, t_len, target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, spec


def gen_e2e() -> None:
    import gen_reference as g

    cases = []
    for k, name in enumerate(NETS):
        keys, vocab, t_len, target = NETS[name]
        salt0 = 60_000 + 1000 * k
        l32, spec = e2e_run(name, torch.float32, salt0)
        l64, _ = e2e_run(name, torch.float64, salt0)
        d = [abs(a - b) / abs(b) for a, b in zip(l32, l64)]
        cases.append({"id": name, "keys": keys, "vocab": vocab, "tokens": t_len,
                      "target": target, "optimizer": "adamw", "hparams": E2E_HPARAMS[name],
                      "sequences": 32, "batch": 8, "data_salt": salt0 + 999, "weights": spec,
                      "losses": l32, "losses64": l64, "drift": d})
        print(f"  transformer e2e {name}: loss {l32[0]:.4f} -> {l32[-1]:.4f}, "
              f"max drift {max(d):.2e}")
    text = json.dumps({**g.header("20 AdamW steps of two transformers from generated weights "
                                  "and data (see scripts/reference_transformer.py)"),
                       "cases": cases}, indent=1, allow_nan=False) + "\n"
    (DATA / "transformer_e2e.json").write_text(text)
    print(f"wrote crates/models/tests/data/transformer_e2e.json ({len(text) / 1e3:.0f} kB)")


def gen_all() -> None:
    gen_layers()
    gen_nets()
    gen_e2e()


__all__ = ["gen_all", "save_safetensors"]

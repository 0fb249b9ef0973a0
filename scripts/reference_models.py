"""PyTorch reference fixtures of optbench-models' layers and networks (imported by
scripts/gen_reference.py, which is the entry point: `.venv/bin/python scripts/gen_reference.py
layers nets`).

Output, in crates/models/tests/data/:

layers.json + layers.safetensors -- one case per layer configuration. The JSON lists the cases
    ({"id", "layer": how optbench builds it, "input_shape" (PyTorch's NCHW, (N, T, D) or (N, F)),
    "mode": "train"|"eval", "params": [names in named_parameters() order], "buffers": [...],
    "drift": {tensor: PyTorch's own f32-vs-f64 difference}}); the safetensors file holds the
    float32 tensors "<id>/input", "<id>/upstream" (the gradient fed into the output: the loss is
    sum(output * upstream)), "<id>/output", "<id>/grad_input", "<id>/param/<name>",
    "<id>/grad/<name>", "<id>/buffer/<name>" (before) and "<id>/buffer_after/<name>".
nets.json + nets.safetensors -- 2c2d, 3c3d and resnet8 (option A) on fixed inputs, training mode:
    the weights are not stored but generated (see `generated`), the inputs and labels are stored;
    recorded: loss, logits, and for every parameter the gradient sampled every `stride` elements
    ("<net>/grad/<name>", stride chosen so that at most 2048 values are kept) and its L2 norm;
    resnet8 also the running statistics after the step.
e2e.json -- 20 steps of SGD (lr 0.01, momentum 0.9) and of Adam (lr 1e-3) on 2c2d and resnet8 in
    training mode, from generated weights on a generated dataset of 32 examples, batches of 8 in
    order (step t uses examples (8t + j) mod 32): the loss at every step, in float32 and the
    relative f32-vs-f64 drift.

Generated values (so that large weights need not be stored): u(salt, i) for i = 0..n-1 is
splitmix64(salt · 2^32 + i) >> 40, divided by 2^23, minus 1 (exact in float32, in [-1, 1)); a
tensor is `float32(offset + scale · u)` computed in float64, with (salt, offset, scale) recorded
per tensor in the JSON.

Drift: every case is also run in float64 from the same float32 inputs; for a tensor the drift is
max_i |a32_i − a64_i| / (|a64_i| + 0.01 · max|a64|). The Rust tests accept
max(1e-4, 10 · drift) for gradients and max(1e-5, 10 · drift) for losses and outputs, with the
same per-element measure.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "crates" / "models" / "tests" / "data"

MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------------------------------------
# helpers


def uniform(salt: int, n: int) -> np.ndarray:
    """u(salt, i), i < n: splitmix64 of salt·2^32 + i, top 24 bits, scaled to [-1, 1) (float64)."""
    with np.errstate(over="ignore"):
        x = (np.arange(n, dtype=np.uint64) + np.uint64((salt << 32) & MASK64))
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / float(1 << 23) - 1.0


def generated(salt: int, shape, offset: float = 0.0, scale: float = 1.0) -> torch.Tensor:
    n = int(np.prod(shape)) if len(shape) else 1
    v = (offset + scale * uniform(salt, n)).astype(np.float32)
    return torch.from_numpy(v.reshape(shape))


def drift(a32: torch.Tensor, a64: torch.Tensor) -> float:
    a32 = a32.detach().double().flatten()
    a64 = a64.detach().double().flatten()
    if a64.numel() == 0:
        return 0.0
    floor = 0.01 * a64.abs().max().item()
    den = a64.abs() + floor
    den[den == 0] = 1.0
    return ((a32 - a64).abs() / den).max().item()


def save_safetensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    """The safetensors format (8-byte little-endian header size, JSON header, raw data), written
    here so the reference environment needs no extra package."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if t.dtype == torch.float32:
            dtype, data = "F32", t.numpy().astype("<f4").tobytes()
        elif t.dtype == torch.int64:
            dtype, data = "I64", t.numpy().astype("<i8").tobytes()
        else:
            raise TypeError(f"{name}: {t.dtype}")
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(chunks))
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1e3:.0f} kB)")


# ---------------------------------------------------------------------------------------------
# layers


class Pad(nn.Module):
    """F.pad before a window: DeepOBS's TensorFlow 'SAME' (zeros, possibly asymmetric)."""

    def __init__(self, pad, inner):
        super().__init__()
        self.pad, self.inner = pad, inner

    def forward(self, x):
        return self.inner(F.pad(x, self.pad))


class ShortcutA(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.p, self.q, self.s = (cout - cin) // 2, cout - cin - (cout - cin) // 2, stride

    def forward(self, x):
        return F.pad(x[:, :, ::self.s, ::self.s], (0, 0, 0, 0, self.p, self.q))


class Fn(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(x)


def layer_cases():
    """(id, optbench layer description, module factory, input shape, mode)."""
    C = []
    lin = lambda i, o: {"type": "linear", "out": o}
    C.append(("linear", lin(5, 3), lambda: nn.Linear(5, 3), (4, 5), "train"))
    C.append(("linear_tokens", lin(4, 6), lambda: nn.Linear(4, 6), (2, 3, 4), "train"))

    def conv(cin, cout, k, s, pad, bias, torch_pad=None):
        desc = {"type": "conv2d", "out": cout, "kernel": k, "stride": s, "padding": pad,
                "bias": bias}
        if torch_pad is None:
            make = lambda: nn.Conv2d(cin, cout, k, s, pad[0], bias=bias)
        else:
            make = lambda: Pad(torch_pad, nn.Conv2d(cin, cout, k, s, 0, bias=bias))
        return desc, make

    for cid, (cin, cout, k, s, pad, bias, tp), shape in [
        ("conv_3x3_pad1", (3, 4, 3, 1, [1, 1, 1, 1], True, None), (2, 3, 6, 5)),
        ("conv_3x3_stride2_valid_nobias", (2, 3, 3, 2, [0, 0, 0, 0], False, None), (2, 2, 7, 7)),
        ("conv_3x3_stride2_tf_same", (2, 3, 3, 2, [0, 1, 0, 1], True, (0, 1, 0, 1)), (2, 2, 6, 6)),
        ("conv_5x5_same_1ch", (1, 4, 5, 1, [2, 2, 2, 2], True, None), (2, 1, 8, 8)),
        ("conv_1x1", (3, 5, 1, 1, [0, 0, 0, 0], True, None), (2, 3, 4, 4)),
        ("conv_1x1_stride2_nobias", (4, 6, 1, 2, [0, 0, 0, 0], False, None), (2, 4, 5, 5)),
    ]:
        desc, make = conv(cin, cout, k, s, pad, bias, tp)
        C.append((cid, desc, make, shape, "train"))

    C.append(("max_pool_2", {"type": "max_pool2d", "kernel": 2, "stride": 2,
                             "padding": [0, 0, 0, 0], "pad_value": "neg_inf"},
              lambda: nn.MaxPool2d(2, 2), (2, 3, 6, 6), "train"))
    C.append(("max_pool_3_stride2_pad1", {"type": "max_pool2d", "kernel": 3, "stride": 2,
                                          "padding": [1, 1, 1, 1], "pad_value": "neg_inf"},
              lambda: nn.MaxPool2d(3, 2, padding=1), (2, 2, 7, 7), "train"))
    C.append(("max_pool_3_stride2_tf_same", {"type": "max_pool2d", "kernel": 3, "stride": 2,
                                             "padding": [0, 1, 0, 1], "pad_value": "zero"},
              lambda: Pad((0, 1, 0, 1), nn.MaxPool2d(3, 2)), (2, 2, 6, 6), "train"))
    C.append(("avg_pool_2", {"type": "avg_pool2d", "kernel": 2, "stride": 2,
                             "padding": [0, 0, 0, 0]},
              lambda: nn.AvgPool2d(2, 2), (2, 3, 6, 6), "train"))
    C.append(("avg_pool_3_stride2_pad1", {"type": "avg_pool2d", "kernel": 3, "stride": 2,
                                          "padding": [1, 1, 1, 1]},
              lambda: nn.AvgPool2d(3, 2, padding=1), (2, 2, 7, 7), "train"))
    C.append(("global_avg_pool", {"type": "global_avg_pool"},
              lambda: Fn(lambda x: F.adaptive_avg_pool2d(x, 1).flatten(1)), (2, 3, 4, 5), "train"))
    C.append(("flatten", {"type": "flatten"}, lambda: nn.Flatten(), (2, 3, 2, 4), "train"))
    for act, mod in [("relu", nn.ReLU), ("tanh", nn.Tanh), ("sigmoid", nn.Sigmoid),
                     ("gelu", nn.GELU)]:
        C.append((act, {"type": "activation", "activation": act}, mod, (3, 2, 3, 4), "train"))
    for mode in ["train", "eval"]:
        C.append((f"batch_norm_{mode}", {"type": "batch_norm2d"}, lambda: nn.BatchNorm2d(3),
                  (4, 3, 3, 2), mode))
    C.append(("batch_norm_vector_train", {"type": "batch_norm2d"}, lambda: nn.BatchNorm1d(5),
              (6, 5), "train"))
    C.append(("layer_norm", {"type": "layer_norm"}, lambda: nn.LayerNorm(6), (2, 4, 6), "train"))
    C.append(("dropout", {"type": "dropout", "p": 0.3}, lambda: nn.Dropout(0.3), (4, 50),
              "train"))
    C.append(("shortcut_a", {"type": "shortcut_a", "out": 8, "stride": 2},
              lambda: ShortcutA(4, 8, 2), (2, 4, 5, 6), "train"))
    return C


def run_layer(make, x, r, mode, dtype, seed, params_from=None, buffers_from=None):
    torch.manual_seed(seed)
    m = make()
    m = m.to(dtype)
    if params_from is not None:
        with torch.no_grad():
            for p, src in zip(m.parameters(), params_from):
                p.copy_(src.to(dtype))
            for b, src in zip([b for b in m.buffers() if b.dtype.is_floating_point],
                              buffers_from):
                b.copy_(src.to(dtype))
    m.train(mode == "train")
    before = [b.detach().clone() for b in m.buffers() if b.dtype.is_floating_point]
    xi = x.to(dtype).clone().requires_grad_(True)
    if isinstance(m, nn.Dropout):
        torch.manual_seed(seed)
    y = m(xi)
    (y * r.to(dtype)).sum().backward()
    params = [p.detach().clone() for p in m.parameters()]
    grads = [p.grad.detach().clone() for p in m.parameters()]
    after = [b.detach().clone() for b in m.buffers() if b.dtype.is_floating_point]
    names = [n for n, _ in m.named_parameters()]
    bnames = [n for n, b in m.named_buffers() if b.dtype.is_floating_point]
    return y.detach(), xi.grad.detach(), params, grads, before, after, names, bnames


def gen_layers() -> None:
    cases, tensors = [], {}
    for k, (cid, desc, make, shape, mode) in enumerate(layer_cases()):
        g = torch.Generator().manual_seed(1000 + k)
        x = torch.randn(shape, generator=g)
        if desc["type"] == "max_pool2d":
            x = x * 2.0  # distinct values, some negative: the pad value matters
        seed = 2000 + k
        # Output shape first, to draw the upstream gradient.
        with torch.no_grad():
            torch.manual_seed(seed)
            probe = make()
            if bnames_of(probe):
                for b in probe.buffers():
                    if b.dtype.is_floating_point:
                        b.copy_(torch.rand(b.shape, generator=g) + 0.5)
            probe.train(mode == "train")
            out_shape = probe(x).shape
            init_params = [p.detach().clone() for p in probe.parameters()]
            init_params = [p + 0.1 * torch.randn(p.shape, generator=g) for p in init_params]
            init_buffers = [b.detach().clone() for b in probe.buffers()
                            if b.dtype.is_floating_point]
        r = torch.randn(out_shape, generator=g)
        res32 = run_layer(make, x, r, mode, torch.float32, seed, init_params, init_buffers)
        res64 = run_layer(make, x.double(), r.double(), mode, torch.float64, seed,
                          init_params, init_buffers)
        y, gx, params, grads, before, after, names, bnames = res32
        d = {"output": drift(y, res64[0]), "grad_input": drift(gx, res64[1])}
        if desc["type"] == "dropout":
            # The f64 run may draw another mask; the operation itself is an exact product.
            d = {"output": 0.0, "grad_input": 0.0}
        for n, a, b in zip(names, grads, res64[3]):
            d[f"grad/{n}"] = drift(a, b)
        tensors[f"{cid}/input"] = x
        tensors[f"{cid}/upstream"] = r
        tensors[f"{cid}/output"] = y
        tensors[f"{cid}/grad_input"] = gx
        for n, p, gr in zip(names, params, grads):
            tensors[f"{cid}/param/{n}"] = p
            tensors[f"{cid}/grad/{n}"] = gr
        for n, b0, b1 in zip(bnames, before, after):
            tensors[f"{cid}/buffer/{n}"] = b0
            tensors[f"{cid}/buffer_after/{n}"] = b1
            d[f"buffer_after/{n}"] = drift(b1, res64[5][bnames.index(n)])
        cases.append({"id": cid, "layer": desc, "input_shape": list(shape), "mode": mode,
                      "params": names, "buffers": bnames, "drift": d})
        print(f"  layer {cid}: max drift {max(d.values()):.2e}")
    write_fixture("layers", cases, tensors,
                  "PyTorch's output and gradients of each layer on fixed inputs (see "
                  "scripts/reference_models.py)")


def bnames_of(m):
    return [n for n, b in m.named_buffers() if b.dtype.is_floating_point]


def write_fixture(name, cases, tensors, note):
    import gen_reference as g
    DATA.mkdir(parents=True, exist_ok=True)
    save_safetensors(DATA / f"{name}.safetensors", tensors)
    text = json.dumps({**g.header(note), "cases": cases}, indent=1, allow_nan=False) + "\n"
    (DATA / f"{name}.json").write_text(text)
    print(f"wrote {(DATA / f'{name}.json').relative_to(ROOT)} ({len(text) / 1e3:.0f} kB)")


# ---------------------------------------------------------------------------------------------
# networks (the PyTorch modules of docs/networks.md)


class Net2c2d(nn.Module):
    """DeepOBS net_mnist_2c2d: TF-same 5x5 convs (pad 2), 2x2 max pools (no pad on even sizes)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.dense1 = nn.Linear(7 * 7 * 64, 1024)
        self.dense2 = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2, 2)
        return self.dense2(F.relu(self.dense1(x.flatten(1))))


class Net3c3d(nn.Module):
    """DeepOBS net_cifar10_3c3d: 3x3/2 max pools with TF-same padding (one zero row and column
    after) on 28, 12 and 6 pixels."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 5)
        self.conv2 = nn.Conv2d(64, 96, 3)
        self.conv3 = nn.Conv2d(96, 128, 3, padding=1)
        self.dense1 = nn.Linear(3 * 3 * 128, 512)
        self.dense2 = nn.Linear(512, 256)
        self.dense3 = nn.Linear(256, num_classes)

    def forward(self, x):
        pool = lambda t: F.max_pool2d(F.pad(t, (0, 1, 0, 1)), 3, 2)
        x = pool(F.relu(self.conv1(x)))
        x = pool(F.relu(self.conv2(x)))
        x = pool(F.relu(self.conv3(x)))
        x = F.relu(self.dense1(x.flatten(1)))
        return self.dense3(F.relu(self.dense2(x)))


class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = ShortcutA(cin, planes, stride) if stride != 1 or cin != planes else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class ResNet(nn.Module):
    def __init__(self, depth, in_channels=3, num_classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for i, planes in enumerate([16, 32, 64]):
            blocks = []
            for j in range(n):
                blocks.append(BasicBlock(cin, planes, 2 if i > 0 and j == 0 else 1))
                cin = planes
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.linear = nn.Linear(64, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))


NETS = {
    "2c2d": (Net2c2d, (1, 28, 28)),
    "3c3d": (Net3c3d, (3, 32, 32)),
    "resnet8": (lambda: ResNet(8), (3, 32, 32)),
}


def generated_weights(model: nn.Module, salt0: int):
    """(name, salt, offset, scale) per parameter, and loads the generated values into `model`."""
    spec = []
    with torch.no_grad():
        for j, (name, p) in enumerate(model.named_parameters()):
            salt = salt0 + j
            if p.dim() > 1:
                offset, scale = 0.0, 1.0 / float(np.sqrt(np.prod(p.shape[1:])))
            elif "bn" in name and name.endswith("weight"):
                offset, scale = 1.0, 0.1
            else:
                offset, scale = 0.0, 0.1
            p.copy_(generated(salt, tuple(p.shape), offset, scale))
            spec.append({"name": name, "shape": list(p.shape), "salt": salt, "offset": offset,
                         "scale": scale})
    return spec


def net_forward_backward(make, x, y, dtype, salt0):
    model = make().to(dtype)
    spec = generated_weights(model, salt0)
    model = model.to(dtype)
    model.train()
    logits = model(x.to(dtype))
    loss = F.cross_entropy(logits, y)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    bufs = {n: b.detach().clone() for n, b in model.named_buffers() if b.dtype.is_floating_point}
    return loss.detach(), logits.detach(), grads, bufs, spec


def gen_nets() -> None:
    cases, tensors = [], {}
    for k, (name, (make, shape)) in enumerate(NETS.items()):
        batch = 4
        x = generated(700 + k, (batch, *shape))
        y = torch.tensor([(3 * i + k) % 10 for i in range(batch)])
        salt0 = 10_000 * (k + 1)
        l32, o32, g32, b32, spec = net_forward_backward(make, x, y, torch.float32, salt0)
        l64, o64, g64, b64, _ = net_forward_backward(make, x, y, torch.float64, salt0)
        d = {"loss": drift(l32, l64), "output": drift(o32, o64)}
        grads = []
        for t in spec:
            n = t["name"]
            flat = g32[n].flatten()
            stride = max(1, -(-flat.numel() // 2048))
            tensors[f"{name}/grad/{n}"] = flat[::stride].contiguous()
            d[f"grad/{n}"] = drift(g32[n].flatten()[::stride], g64[n].flatten()[::stride])
            grads.append({"name": n, "stride": stride, "norm": g32[n].double().norm().item(),
                          "norm64": g64[n].norm().item()})
        for n, v in b32.items():
            tensors[f"{name}/buffer_after/{n}"] = v
            d[f"buffer_after/{n}"] = drift(v, b64[n])
        tensors[f"{name}/input"] = x
        tensors[f"{name}/labels"] = y
        tensors[f"{name}/output"] = o32
        cases.append({"id": name, "input_shape": [batch, *shape], "loss": l32.item(),
                      "loss64": l64.item(), "weights": spec, "grads": grads, "drift": d})
        print(f"  net {name}: loss {l32.item():.6f}, max drift {max(d.values()):.2e}")
    write_fixture("nets", cases, tensors,
                  "PyTorch's loss, logits and gradients of whole networks in training mode")


def e2e_run(make, shape, opt_name, dtype, salt0, steps=20, n=32, batch=8):
    model = make().to(dtype)
    spec = generated_weights(model, salt0)
    model = model.to(dtype)
    model.train()
    xs = generated(salt0 + 999, (n, *shape)).to(dtype)
    ys = torch.tensor([int(v) for v in (uniform(salt0 + 998, n) * 5 + 5).astype(int) % 10])
    if opt_name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, foreach=False)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=False)
    losses = []
    for t in range(steps):
        idx = [(batch * t + j) % n for j in range(batch)]
        opt.zero_grad()
        loss = F.cross_entropy(model(xs[idx]), ys[idx])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, spec, ys


def gen_e2e() -> None:
    import gen_reference as g
    cases = []
    for k, name in enumerate(["2c2d", "resnet8"]):
        make, shape = NETS[name]
        for opt_name in ["sgd", "adam"]:
            salt0 = 50_000 + 1000 * k
            l32, spec, ys = e2e_run(make, shape, opt_name, torch.float32, salt0)
            l64, _, _ = e2e_run(make, shape, opt_name, torch.float64, salt0)
            d = [abs(a - b) / abs(b) for a, b in zip(l32, l64)]
            cases.append({"id": f"{name}/{opt_name}", "net": name, "optimizer": opt_name,
                          "hparams": {"lr": 0.01, "momentum": 0.9} if opt_name == "sgd"
                          else {"lr": 1e-3},
                          "input_shape": list(shape), "examples": 32, "batch": 8,
                          "data_salt": salt0 + 999, "labels": ys.tolist(), "weights": spec,
                          "losses": l32, "losses64": l64, "drift": d})
            print(f"  e2e {name}/{opt_name}: loss {l32[0]:.4f} -> {l32[-1]:.4f}, "
                  f"max drift {max(d):.2e}")
    text = json.dumps({**g.header("20 training steps from generated weights and data"),
                       "cases": cases}, indent=1, allow_nan=False) + "\n"
    (DATA / "e2e.json").write_text(text)
    print(f"wrote {(DATA / 'e2e.json').relative_to(ROOT)} ({len(text) / 1e3:.0f} kB)")

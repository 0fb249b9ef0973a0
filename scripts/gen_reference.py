#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures of optbench-optim (crates/optim/tests/data/) and of
optbench-models' layers and networks (crates/models/tests/data/, see scripts/reference_models.py
and scripts/reference_transformer.py).

Run from the repository root with the reference environment (scripts/requirements-reference.txt):

    python3 -m venv .venv && .venv/bin/pip install -r scripts/requirements-reference.txt
    .venv/bin/python scripts/gen_reference.py                 # everything
    .venv/bin/python scripts/gen_reference.py layers nets e2e # only optbench-models' fixtures
    .venv/bin/python scripts/gen_reference.py transformer     # the transformer's (layers, two
                                                              # models, 20 AdamW steps)

The output is deterministic for a given torch version except for the recorded date. The Rust
tests (crates/optim/tests/torch_reference.rs) read these files; they never need Python.

Fixture format (all JSON; version "format": 1)
==============================================

Exact float32 arrays are stored as *f32 blobs*: the base64 (RFC 4648, standard alphabet, with
padding) of the little-endian IEEE-754 binary32 bytes of the array. They round-trip bit for bit
and are ~2x smaller than decimal text. Scalars that torch computes in float64 (learning rates,
hyperparameters) are plain JSON numbers (Python's repr: shortest round-trip float64).

Every file has a header: "format", "generator" (this script), "torch_version",
"python_version", "numpy_version", "date" (UTC, ISO 8601), "note".

optim/inputs.json -- the inputs shared by every optimizer case
    "n": elements (1000), "steps": updates per case (20), "seed": torch.Generator seed,
    "params0": f32 blob of the initial parameters (randn times 10^u, u ~ U(-2, 0.5)),
    "grads": list of `steps` f32 blobs, the gradient of update k (k = 0 first).
    The gradients are randn(n) times a per-element scale 10^u, u ~ U(-7, 1) (so some elements
    are far below eps and eps matters), times a per-step factor in [0.5, 2]; about 3% of the
    elements are exactly 0 at each step and a fixed 1% are 0 at every step.

optim/<name>.json -- one file per optimizer (sgd, adagrad, adadelta, rmsprop, adam, adamw,
nadam, radam, adamax, lion)
    "optimizer": YAML name, "implementation": what produced the numbers (e.g.
    "torch.optim.Adam(foreach=False, differentiable=False), single-tensor, CPU"),
    "torch_defaults": the constructor defaults of the torch class for the hyperparameters
        optbench exposes (torch keyword names, betas as a 2-array),
    "cases": list of
        "id": "<name>/<label>",
        "hparams": the keyword arguments passed (torch names; betas as a 2-array); keys not
            given take torch's defaults,
        "lrs": the learning rate of each update (group["lr"] set before each step; constant
            unless the case tests a per-step learning rate),
        "params": list of `steps` f32 blobs, the parameters after update k.

schedules.json
    "base_lr", "steps",
    "cases": list of
        "id", "config": optbench's schedule mapping (as in the experiment YAML),
        "torch": how torch produced it, "lrs": the learning rate of update k, k = 0..steps-1
            (read from group["lr"] before optimizer.step(); the scheduler's step() is called once
            after every update).

clip.json
    "grads": f32 blob (n = 1000),
    "norm_cases": list of {"max_norm", "total_norm" (torch's returned float32 norm, as float),
        "clipped": f32 blob} from torch.nn.utils.clip_grad_norm_(p, max_norm) (foreach=False),
    "value_cases": list of {"clip_value", "clipped": f32 blob} from clip_grad_value_.

Numerical notes on torch 2.15 (CPU, measured with this environment on an AMD EPYC, AVX2):
* `sqrt` of float32 tensors is NOT correctly rounded (MKL VML): ~17% of results are 1 ulp away
  from the correctly rounded value (`f32::sqrt`); the result is the same whatever the length or
  alignment. Fixtures of optimizers with a square root (adagrad, adadelta, rmsprop, adam, adamw,
  nadam, radam) are therefore reproducible only to ~1 ulp per update, and may differ at that
  level on another CPU (MKL dispatches per CPU). sgd, adamax and lion have no square root.
* `addcmul_(t1, t2, value=v)` computes fma(v * t1, t2, self) (GCC contracts the vectorised
  `self + v * t1 * t2`), `addcdiv_` computes self + (v * t1) / t2, `add(other, alpha=a)` is
  fma(other, a, self), `lerp_(end, w)` is fma(w, end - self, self) for |w| < 0.5 else
  fma(w - 1, end - self, end); `tensor / python_float` is a true f32 division by the rounded
  scalar. Python-float scalars are rounded to float32 before the element-wise op.

Lion has no torch.optim counterpart. Its reference below is written in torch float32 ops,
following Algorithm 2 of Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"
(arXiv:2302.06675), line for line as lucidrains/lion-pytorch's `update_fn` (decoupled weight
decay p <- p * (1 - lr * wd); c = beta1 * m + (1 - beta1) * g; p <- p - lr * sign(c);
m <- beta2 * m + (1 - beta2) * g). It is marked "reference implementation" in lion.json.
"""

from __future__ import annotations

import base64
import datetime
import inspect
import json
import math
import platform
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "crates" / "optim" / "tests" / "data"

N = 1000
STEPS = 20
SEED = 20240611

# ---------------------------------------------------------------------------------------------
# helpers


def blob(t: torch.Tensor) -> str:
    """f32 blob: base64 of the little-endian float32 bytes."""
    a = t.detach().to(torch.float32).contiguous().numpy().astype("<f4", copy=False)
    return base64.b64encode(a.tobytes()).decode("ascii")


def unblob(s: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype="<f4")


def header(note: str) -> dict:
    return {
        "format": 1,
        "generator": "scripts/gen_reference.py",
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "note": note,
    }


def write(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, indent=1, allow_nan=False) + "\n"
    path.write_text(text)
    print(f"wrote {path.relative_to(ROOT)} ({len(text) / 1e3:.0f} kB)")


# ---------------------------------------------------------------------------------------------
# inputs


def make_inputs() -> tuple[torch.Tensor, list[torch.Tensor]]:
    g = torch.Generator().manual_seed(SEED)
    # parameters of varied magnitude (10^-2 .. 10^0.5), comparable to the updates, so that the
    # element-wise comparison is sensitive to errors in the update itself
    pscale = torch.pow(10.0, torch.rand(N, generator=g, dtype=torch.float64) * 2.5 - 2.0)
    params0 = (torch.randn(N, generator=g, dtype=torch.float64) * pscale).to(torch.float32)
    # per-element scale 10^u, u ~ U(-7, 1): from far below eps (1e-8 .. 1e-10 after squaring) to 10
    u = torch.rand(N, generator=g, dtype=torch.float64) * 8.0 - 7.0
    scale = torch.pow(10.0, u)
    always_zero = torch.rand(N, generator=g) < 0.01
    grads = []
    for _ in range(STEPS):
        step_factor = 0.5 + 1.5 * torch.rand((), generator=g, dtype=torch.float64)
        z = torch.randn(N, generator=g, dtype=torch.float64)
        gk = (z * scale * step_factor).to(torch.float32)
        zero_now = torch.rand(N, generator=g) < 0.03
        gk[zero_now | always_zero] = 0.0
        grads.append(gk)
    return params0, grads


# ---------------------------------------------------------------------------------------------
# optimizers

TORCH_CLASSES = {
    "sgd": torch.optim.SGD,
    "adagrad": torch.optim.Adagrad,
    "adadelta": torch.optim.Adadelta,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "nadam": torch.optim.NAdam,
    "radam": torch.optim.RAdam,
    "adamax": torch.optim.Adamax,
}

# The hyperparameters optbench exposes per optimizer (torch keyword names).
EXPOSED = {
    "sgd": ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"],
    "adagrad": ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps", "maximize"],
    "adadelta": ["lr", "rho", "eps", "weight_decay", "maximize"],
    "rmsprop": ["lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"],
    "adam": ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"],
    "adamw": ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"],
    "nadam": ["lr", "betas", "eps", "weight_decay", "momentum_decay", "decoupled_weight_decay",
              "maximize"],
    "radam": ["lr", "betas", "eps", "weight_decay", "decoupled_weight_decay", "maximize"],
    "adamax": ["lr", "betas", "eps", "weight_decay", "maximize"],
}

# lucidrains/lion-pytorch defaults
LION_DEFAULTS = {"lr": 1e-4, "betas": [0.9, 0.99], "weight_decay": 0.0}


def torch_defaults(name: str) -> dict:
    if name == "lion":
        return dict(LION_DEFAULTS)
    sig = inspect.signature(TORCH_CLASSES[name].__init__)
    out = {}
    for k in EXPOSED[name]:
        v = sig.parameters[k].default
        if isinstance(v, tuple):
            v = list(v)
        if isinstance(v, bool):
            out[k] = v
        elif isinstance(v, (int, float)):
            out[k] = float(v)
        else:
            out[k] = [float(x) for x in v]
    return out


def varying_lrs(base: float) -> list[float]:
    """A learning rate that changes at every update (warm-up, then a wobbling decay)."""
    return [base * (0.2 + 0.8 * min(k, 4) / 4) * (0.97**k) * (1.0 + 0.3 * math.sin(1.7 * k))
            for k in range(STEPS)]


def lion_step(p: torch.Tensor, g: torch.Tensor, m: torch.Tensor, lr: float, betas, wd: float):
    """Reference Lion step: Chen et al. 2023, Algorithm 2, as lucidrains/lion-pytorch update_fn."""
    beta1, beta2 = betas
    p.mul_(1.0 - lr * wd)  # decoupled weight decay
    update = m.clone().mul_(beta1).add(g, alpha=1.0 - beta1).sign_()
    p.add_(update, alpha=-lr)
    m.mul_(beta2).add_(g, alpha=1.0 - beta2)


def run_case(name: str, hparams: dict, lrs: list[float], params0, grads) -> list[torch.Tensor]:
    p = params0.clone()
    out = []
    if name == "lion":
        h = {**LION_DEFAULTS, **hparams}
        m = torch.zeros_like(p)
        for lr, g in zip(lrs, grads):
            lion_step(p, g, m, lr, h["betas"], h["weight_decay"])
            out.append(p.clone())
        return out
    p.requires_grad_(False)
    param = torch.nn.Parameter(p)
    kwargs = {k: (tuple(v) if k == "betas" else v) for k, v in hparams.items()}
    kwargs["foreach"] = False
    kwargs["differentiable"] = False
    if name in ("sgd", "adagrad", "adam", "adamw"):
        kwargs["fused"] = False
    opt = TORCH_CLASSES[name]([param], **kwargs)
    for lr, g in zip(lrs, grads):
        opt.param_groups[0]["lr"] = lr
        param.grad = g.clone()
        opt.step()
        out.append(param.detach().clone())
    return out


def cases_for(name: str) -> list[tuple[str, dict, float | None]]:
    """(label, hparams, varying-lr base or None) for each case of optimizer `name`."""
    C = []
    if name == "sgd":
        C += [
            ("plain", {"lr": 0.05}, None),
            ("momentum", {"lr": 0.05, "momentum": 0.9}, None),
            ("dampening", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}, None),
            ("nesterov", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, None),
            ("weight_decay", {"lr": 0.05, "weight_decay": 0.1}, None),
            ("momentum_weight_decay_maximize",
             {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.05,
              "maximize": True}, None),
            ("nesterov_weight_decay", {"lr": 0.02, "momentum": 0.5, "nesterov": True,
                                       "weight_decay": 0.01}, None),
            ("defaults", {}, None),
            ("varying_lr", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, 0.05),
        ]
    elif name == "adagrad":
        C += [
            ("defaults", {}, None),
            ("lr_decay", {"lr": 0.1, "lr_decay": 0.05}, None),
            ("initial_accumulator_value", {"lr": 0.1, "initial_accumulator_value": 0.1}, None),
            ("weight_decay_eps", {"lr": 0.1, "weight_decay": 0.1, "eps": 1e-6}, None),
            ("maximize_all", {"lr": 0.05, "lr_decay": 0.01, "weight_decay": 0.01,
                              "initial_accumulator_value": 0.5, "maximize": True}, None),
            ("varying_lr", {"lr_decay": 0.02}, 0.1),
        ]
    elif name == "adadelta":
        C += [
            ("defaults", {}, None),
            ("lr_rho_eps", {"lr": 0.5, "rho": 0.95, "eps": 1e-4}, None),
            ("weight_decay", {"weight_decay": 0.1}, None),
            ("maximize", {"lr": 2.0, "rho": 0.8, "eps": 1e-8, "weight_decay": 0.01,
                          "maximize": True}, None),
            ("varying_lr", {"rho": 0.9}, 1.0),
        ]
    elif name == "rmsprop":
        C += [
            ("defaults", {}, None),
            ("alpha_eps", {"lr": 0.001, "alpha": 0.9, "eps": 1e-6}, None),
            ("centered", {"lr": 0.001, "centered": True}, None),
            ("momentum", {"lr": 0.001, "momentum": 0.9}, None),
            ("centered_momentum_weight_decay",
             {"lr": 0.001, "centered": True, "momentum": 0.5, "weight_decay": 0.1}, None),
            ("maximize", {"lr": 0.001, "maximize": True, "weight_decay": 0.01}, None),
            ("varying_lr", {"centered": True, "momentum": 0.9}, 0.001),
        ]
    elif name == "adam":
        C += [
            ("defaults", {}, None),
            ("betas_eps", {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6}, None),
            ("amsgrad", {"lr": 0.01, "amsgrad": True}, None),
            ("weight_decay", {"lr": 0.01, "weight_decay": 0.1}, None),
            ("maximize_amsgrad", {"lr": 0.01, "maximize": True, "amsgrad": True,
                                  "weight_decay": 0.01}, None),
            ("varying_lr", {"amsgrad": True}, 0.01),
        ]
    elif name == "adamw":
        C += [
            ("defaults", {}, None),
            ("weight_decay", {"lr": 0.01, "weight_decay": 0.1, "betas": [0.85, 0.995]}, None),
            ("amsgrad", {"lr": 0.01, "amsgrad": True}, None),
            ("maximize_amsgrad", {"lr": 0.01, "maximize": True, "amsgrad": True,
                                  "eps": 1e-6}, None),
            ("varying_lr", {"weight_decay": 0.05}, 0.01),
        ]
    elif name == "nadam":
        C += [
            ("defaults", {}, None),
            ("momentum_decay", {"lr": 0.01, "momentum_decay": 0.01, "betas": [0.8, 0.99]}, None),
            ("weight_decay", {"lr": 0.01, "weight_decay": 0.1}, None),
            ("decoupled_weight_decay", {"lr": 0.01, "weight_decay": 0.1,
                                        "decoupled_weight_decay": True}, None),
            ("maximize", {"lr": 0.01, "maximize": True, "eps": 1e-6}, None),
            ("varying_lr", {"weight_decay": 0.01}, 0.01),
        ]
    elif name == "radam":
        # beta2 = 0.999: rho_t <= 5 for the first 5 updates (un-rectified branch), > 5 after.
        C += [
            ("defaults", {}, None),
            ("betas_eps", {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6}, None),
            ("weight_decay", {"lr": 0.01, "weight_decay": 0.1}, None),
            ("decoupled_weight_decay", {"lr": 0.01, "weight_decay": 0.1,
                                        "decoupled_weight_decay": True}, None),
            ("maximize", {"lr": 0.01, "maximize": True}, None),
            ("varying_lr", {"weight_decay": 0.01}, 0.01),
        ]
    elif name == "adamax":
        C += [
            ("defaults", {}, None),
            ("betas_eps", {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6}, None),
            ("weight_decay", {"lr": 0.01, "weight_decay": 0.1}, None),
            ("maximize", {"lr": 0.01, "maximize": True}, None),
            ("varying_lr", {}, 0.01),
        ]
    elif name == "lion":
        C += [
            ("defaults", {}, None),
            ("betas", {"lr": 0.001, "betas": [0.95, 0.98]}, None),
            ("weight_decay", {"lr": 0.001, "weight_decay": 0.5}, None),
            ("varying_lr", {"weight_decay": 0.1}, 0.001),
        ]
    return C


def radam_rho(t: int, beta2: float) -> float:
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * t * beta2**t / (1 - beta2**t)


def gen_optimizers() -> None:
    params0, grads = make_inputs()
    assert all(np.array_equal(unblob(blob(g)), g.numpy()) for g in grads)
    write(DATA / "optim" / "inputs.json", {
        **header("Shared inputs of every optimizer case (see optim/<name>.json)."),
        "n": N, "steps": STEPS, "seed": SEED,
        "params0": blob(params0),
        "grads": [blob(g) for g in grads],
    })
    rho = [radam_rho(t, 0.999) for t in range(1, STEPS + 1)]
    assert any(r <= 5 for r in rho) and any(r > 5 for r in rho), rho
    print("radam rho_t (beta2=0.999):", ", ".join(f"{r:.3f}" for r in rho[:8]), "...")
    for name in ["sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "nadam", "radam",
                 "adamax", "lion"]:
        if name == "lion":
            impl = ("reference implementation (no torch.optim counterpart): Chen et al. 2023, "
                    "arXiv:2302.06675, Algorithm 2, in torch float32 ops as "
                    "lucidrains/lion-pytorch update_fn; defaults from lion-pytorch")
        else:
            cls = TORCH_CLASSES[name]
            fused = ", fused=False" if name in ("sgd", "adagrad", "adam", "adamw") else ""
            impl = (f"torch.optim.{cls.__name__}(foreach=False, differentiable=False{fused}), "
                    "single-tensor implementation, CPU")
        defaults = torch_defaults(name)
        cases = []
        for label, hp, vary in cases_for(name):
            base = hp.get("lr", defaults["lr"])
            if vary is not None:
                lrs = varying_lrs(vary)
                hp = {**hp, "lr": vary}
            else:
                lrs = [float(base)] * STEPS
            traj = run_case(name, hp, lrs, params0, grads)
            final = traj[-1]
            assert torch.isfinite(final).all(), (name, label)
            moved = (final != params0).float().mean().item()
            print(f"  {name}/{label}: moved {moved:.1%} of elements, "
                  f"max |p| {final.abs().max().item():.3g}")
            cases.append({
                "id": f"{name}/{label}",
                "hparams": hp,
                "lrs": lrs,
                "params": [blob(t) for t in traj],
            })
        write(DATA / "optim" / f"{name}.json", {
            **header("Parameters after every update of each case, from optim/inputs.json."),
            "optimizer": name,
            "implementation": impl,
            "torch_defaults": defaults,
            "cases": cases,
        })


# ---------------------------------------------------------------------------------------------
# schedules

SCHED_STEPS = 200
BASE_LR = 0.1
WARMUP = {"warmup_steps": 20, "warmup_start_factor": 0.1}


def _dummy_optimizer():
    p = torch.nn.Parameter(torch.zeros(1))
    p.grad = torch.zeros(1)
    return torch.optim.SGD([p], lr=BASE_LR)


def record(make) -> list[float]:
    """lr of updates 0..SCHED_STEPS-1, stepping the scheduler once after every update."""
    opt = _dummy_optimizer()
    sched = make(opt)
    lrs = []
    for _ in range(SCHED_STEPS):
        lrs.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        if sched is not None:
            sched.step()
    return lrs


def gen_schedules() -> None:
    S = torch.optim.lr_scheduler
    main = [
        ({"name": "constant"}, "no scheduler", lambda o: None),
        ({"name": "step", "step_size": 30, "gamma": 0.5}, "StepLR(step_size=30, gamma=0.5)",
         lambda o: S.StepLR(o, step_size=30, gamma=0.5)),
        ({"name": "step", "step_size": 7}, "StepLR(step_size=7) (default gamma 0.1)",
         lambda o: S.StepLR(o, step_size=7)),
        ({"name": "multistep", "milestones": [50, 120, 170], "gamma": 0.3},
         "MultiStepLR(milestones=[50, 120, 170], gamma=0.3)",
         lambda o: S.MultiStepLR(o, milestones=[50, 120, 170], gamma=0.3)),
        ({"name": "multistep", "milestones": [0, 10, 100]},
         "MultiStepLR(milestones=[0, 10, 100]) (default gamma 0.1)",
         lambda o: S.MultiStepLR(o, milestones=[0, 10, 100])),
        ({"name": "exponential", "gamma": 0.98}, "ExponentialLR(gamma=0.98)",
         lambda o: S.ExponentialLR(o, gamma=0.98)),
        ({"name": "cosine", "t_max": 200}, "CosineAnnealingLR(T_max=200)",
         lambda o: S.CosineAnnealingLR(o, T_max=200)),
        ({"name": "cosine", "t_max": 200, "eta_min": 0.001},
         "CosineAnnealingLR(T_max=200, eta_min=0.001)",
         lambda o: S.CosineAnnealingLR(o, T_max=200, eta_min=0.001)),
        ({"name": "cosine", "t_max": 60, "eta_min": 0.01},
         "CosineAnnealingLR(T_max=60, eta_min=0.01) (continues past T_max)",
         lambda o: S.CosineAnnealingLR(o, T_max=60, eta_min=0.01)),
        ({"name": "cosine"}, "CosineAnnealingLR(T_max=200) (t_max defaults to the 200 updates)",
         lambda o: S.CosineAnnealingLR(o, T_max=SCHED_STEPS)),
    ]
    cases = []

    def linear(o):
        return S.LinearLR(o, start_factor=WARMUP["warmup_start_factor"], end_factor=1.0,
                          total_iters=WARMUP["warmup_steps"])

    warm = record(linear)
    for cfg, desc, make in main:
        lrs = record(make)
        cases.append({"id": json.dumps(cfg, sort_keys=True), "config": cfg, "torch": desc,
                      "lrs": lrs})
        wcfg = {**cfg, **WARMUP}
        product = [w * x / BASE_LR for w, x in zip(warm, lrs)]
        wdesc = (f"LinearLR(start_factor={WARMUP['warmup_start_factor']}, end_factor=1.0, "
                 f"total_iters={WARMUP['warmup_steps']})")
        eta_min = cfg.get("eta_min", 0.0)
        if make(_dummy_optimizer()) is None:
            chained = record(linear)
            how = wdesc
        elif eta_min == 0.0:
            chained = record(lambda o, make=make: S.ChainedScheduler([linear(o), make(o)]))
            how = f"ChainedScheduler([{wdesc}, {desc}])"
        else:
            chained = None
        if chained is not None:
            err = max(abs(a - b) / max(abs(b), 1e-300) for a, b in zip(chained, product))
            assert err < 1e-12, (cfg, err)
            lrs_w = chained
        else:
            # ChainedScheduler's recursive cosine form is path dependent when eta_min > 0;
            # optbench composes multiplicatively: record the product of torch's two schedulers.
            lrs_w = product
            how = (f"product of {wdesc} factor (its lr / base_lr) and {desc}, each from its own "
                   "torch scheduler object")
        cases.append({"id": json.dumps(wcfg, sort_keys=True), "config": wcfg, "torch": how,
                      "lrs": lrs_w})
    write(DATA / "schedules.json", {
        **header("Learning rate of update k from torch.optim.lr_scheduler objects stepped once "
                 "per update."),
        "base_lr": BASE_LR,
        "steps": SCHED_STEPS,
        "cases": cases,
    })


# ---------------------------------------------------------------------------------------------
# clipping


def gen_clip() -> None:
    g = torch.Generator().manual_seed(SEED + 1)
    scale = torch.pow(10.0, torch.rand(N, generator=g, dtype=torch.float64) * 6.0 - 5.0)
    grads = (torch.randn(N, generator=g, dtype=torch.float64) * scale).to(torch.float32)
    grads[:10] = 0.0
    grads[10] = 0.25  # exactly at a clip value below
    grads[11] = -0.25
    norm = torch.linalg.vector_norm(grads.double()).item()
    print(f"clip: gradient 2-norm {norm:.6g}")
    norm_cases = []
    for max_norm in [norm * 10, norm * 1.0000001, norm * 0.5, 1.0, 1e-3]:
        p = torch.nn.Parameter(torch.zeros(N))
        p.grad = grads.clone()
        total = torch.nn.utils.clip_grad_norm_([p], max_norm, foreach=False)
        norm_cases.append({"max_norm": max_norm, "total_norm": float(total),
                           "clipped": blob(p.grad)})
    value_cases = []
    for c in [10.0, 0.25, 1e-3, 0.0]:
        p = torch.nn.Parameter(torch.zeros(N))
        p.grad = grads.clone()
        torch.nn.utils.clip_grad_value_([p], c, foreach=False)
        value_cases.append({"clip_value": c, "clipped": blob(p.grad)})
    write(DATA / "clip.json", {
        **header("torch.nn.utils.clip_grad_norm_ (norm_type 2) and clip_grad_value_ on one "
                 "gradient tensor."),
        "grads": blob(grads),
        "norm_cases": norm_cases,
        "value_cases": value_cases,
    })


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets", nargs="*",
                    default=["optim", "layers", "nets", "e2e", "transformer"],
                    choices=["optim", "layers", "nets", "e2e", "transformer"],
                    help="which fixtures to write (default: all); layers, nets and e2e are "
                         "optbench-models' (scripts/reference_models.py), transformer its "
                         "transformer's (scripts/reference_transformer.py)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, python {sys.version.split()[0]}, numpy {np.__version__}")
    if "optim" in args.targets:
        gen_optimizers()
        gen_schedules()
        gen_clip()
    if {"layers", "nets", "e2e", "transformer"} & set(args.targets):
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import reference_models as models

        torch.set_default_dtype(torch.float32)
        if "layers" in args.targets:
            models.gen_layers()
        if "nets" in args.targets:
            models.gen_nets()
        if "e2e" in args.targets:
            models.gen_e2e()
        if "transformer" in args.targets:
            import reference_transformer

            reference_transformer.gen_all()


if __name__ == "__main__":
    main()

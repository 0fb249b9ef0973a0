#!/usr/bin/env python3
"""Times one torch.optim step per optimizer on ONE thread, for comparison with
`cargo bench -p optbench-optim --bench step` (criterion group "step", id = YAML name).

    .venv/bin/python scripts/bench_torch_step.py [--sizes 1000,1000000,16000000]
                                                 [--optimizers sgd,adam] [--json FILE]

For every optimizer and n, one float32 parameter tensor of n elements with a random gradient is
stepped with torch's default hyperparameters (lr aside, which does not change the work; for
lion, lucidrains/lion-pytorch's defaults). Implementations timed:

* fused=True where torch has a CPU fused kernel (torch 2.15: SGD, Adagrad, Adam, AdamW; the
  script probes this at start-up, so another torch version is handled too),
* foreach=True (torch's multi-tensor implementation) for every torch optimizer,
* lion: no torch.optim counterpart; the reference in torch float32 ops (the same code as
  scripts/gen_reference.py's `lion_step`, i.e. lucidrains/lion-pytorch's update_fn).

"best" is the fastest of these per optimizer and n.

Time per step: median over repeated steps (after warm-up steps), at least MIN_REPS steps and at
least MIN_SECONDS of stepping. Reported: ns/step, ns/element = time / n, and GB/s of buffer
traffic = bytes per element x n / time, where bytes per element counts each buffer the default
configuration touches once per step: the parameters read and written (8 B), the gradient read
(4 B), and every state buffer read and written (8 B each). With the defaults: sgd (momentum 0,
no buffer) 12 B, adagrad (sum) 20, adadelta (square_avg, acc_delta) 28, rmsprop (square_avg) 20,
adam / adamw / nadam / radam (exp_avg, exp_avg_sq) 28, adamax (exp_avg, exp_inf) 28, lion
(exp_avg) 20.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time

import torch

SIZES = [1_000, 1_000_000, 16_000_000]
NAMES = ["sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "nadam", "radam", "adamax",
         "lion"]
CLASSES = {
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
# Bytes moved per element and step with the default hyperparameters (see the module docstring).
BYTES_PER_ELEMENT = {
    "sgd": 12, "adagrad": 20, "adadelta": 28, "rmsprop": 20, "adam": 28, "adamw": 28,
    "nadam": 28, "radam": 28, "adamax": 28, "lion": 20,
}
# torch's SGD default lr is 1e-3 since 2.x; pass it explicitly for older versions.
LR = {"sgd": 1e-3}
MIN_REPS = 5
MIN_SECONDS = 0.5
WARMUP = 2


def has_fused(name: str) -> bool:
    if name not in CLASSES:
        return False
    p = torch.nn.Parameter(torch.zeros(8))
    p.grad = torch.ones(8)
    try:
        CLASSES[name]([p], fused=True, **({"lr": LR[name]} if name in LR else {})).step()
        return True
    except (TypeError, RuntimeError, ValueError):
        return False


class LionRef:
    """Lion (Chen et al. 2023) in torch ops, as lucidrains/lion-pytorch's update_fn."""

    def __init__(self, p: torch.Tensor, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        self.p, self.lr, self.betas, self.wd = p, lr, betas, weight_decay
        self.m = torch.zeros_like(p)

    @torch.no_grad()
    def step(self):
        p, g, m, lr = self.p, self.p.grad, self.m, self.lr
        beta1, beta2 = self.betas
        p.mul_(1.0 - lr * self.wd)
        update = m.clone().mul_(beta1).add(g, alpha=1.0 - beta1).sign_()
        p.add_(update, alpha=-lr)
        m.mul_(beta2).add_(g, alpha=1.0 - beta2)


def time_steps(step) -> float:
    """Median seconds per call of `step`."""
    for _ in range(WARMUP):
        step()
    times = []
    start = time.perf_counter()
    while len(times) < MIN_REPS or time.perf_counter() - start < MIN_SECONDS:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(name: str, impl: str, n: int) -> dict:
    gen = torch.Generator().manual_seed(0)
    p = torch.nn.Parameter(torch.randn(n, generator=gen))
    p.grad = torch.randn(n, generator=gen) * 1e-2
    if name == "lion":
        opt = LionRef(p)
    else:
        kwargs = {"lr": LR[name]} if name in LR else {}
        kwargs[impl] = True
        opt = CLASSES[name]([p], **kwargs)
    seconds = time_steps(opt.step)
    bpe = BYTES_PER_ELEMENT[name]
    return {
        "optimizer": name,
        "impl": impl,
        "n": n,
        "ns_per_step": seconds * 1e9,
        "ns_per_element": seconds * 1e9 / n,
        "bytes_per_element": bpe,
        "gb_per_s": bpe * n / seconds / 1e9,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--optimizers", default=",".join(NAMES))
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    names = args.optimizers.split(",")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"python {platform.python_version()}", file=sys.stderr)
    results = []
    for name in names:
        impls = ["reference"] if name == "lion" else (
            (["fused"] if has_fused(name) else []) + ["foreach"])
        for n in sizes:
            for impl in impls:
                r = bench(name, impl, n)
                results.append(r)
                print(f"  {name:9} {impl:9} n={n:>10,}  {r['ns_per_element']:8.3f} ns/elt  "
                      f"{r['gb_per_s']:6.1f} GB/s", file=sys.stderr, flush=True)
    print("| optimizer | impl | n | ns/step | ns/element | B/element | GB/s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['optimizer']} | {r['impl']} | {r['n']:,} | {r['ns_per_step']:,.0f} | "
              f"{r['ns_per_element']:.3f} | {r['bytes_per_element']} | {r['gb_per_s']:.1f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch_version": torch.__version__, "threads": 1, "results": results}, f,
                      indent=1)


if __name__ == "__main__":
    main()

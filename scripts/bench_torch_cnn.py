#!/usr/bin/env python3
"""Torch reference throughput for optbench's `cnn_train_step` benchmark.

Trains the same networks as crates/models/benches/cnn.rs on one thread, batch 128, and prints
training examples per second and the thread's CPU time per step (forward, cross-entropy,
backward, optimizer step; the batch is indexed out of a shuffled 1024-example random set, as
optbench gathers it):
- DeepOBS's 2c2d on 1×28×28 images with torch.optim.Adam(lr=1e-3);
- ResNet-20 (He et al. 2016, option A shortcuts) on 3×32×32 images with
  torch.optim.SGD(lr=0.1, momentum=0.9);
each in the default (NCHW) and the channels_last memory format (PyTorch's faster CPU setting for
convolutions with oneDNN). The modules are those of scripts/reference_models.py.

Usage: .venv/bin/python scripts/bench_torch_cnn.py [--steps 20] [--json]
Run it right before or after `cargo bench -p optbench-models --bench bench_main -- cnn_train_step`
and report `uptime` with the numbers.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_models import Net2c2d, ResNet  # noqa: E402


def bench(make, shape, make_opt, channels_last, steps, batch=128, n=1024):
    torch.manual_seed(0)
    model = make()
    x = torch.randn(n, *shape)
    y = torch.randint(0, 10, (n,))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = make_opt(model.parameters())

    def step(idx):
        xb = x[idx]
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xb), y[idx]).backward()
        opt.step()

    perm = torch.randperm(n)
    for s in range(3):  # warm-up
        step(perm[s * batch:(s + 1) * batch])
    t0, cpu0 = time.perf_counter(), time.thread_time()
    for s in range(steps):
        start = (s * batch) % n
        step(perm[start:start + batch])
    dt, cpu = time.perf_counter() - t0, time.thread_time() - cpu0
    return batch * steps / dt, dt / steps, cpu / steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--json", action="store_true", help="print one JSON object per line")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}, batch 128, "
          f"{args.steps} timed steps")
    cases = [
        ("2c2d_adam", Net2c2d, (1, 28, 28), lambda p: torch.optim.Adam(p, lr=1e-3)),
        ("resnet20_sgd_momentum", lambda: ResNet(20), (3, 32, 32),
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    ]
    for label, make, shape, make_opt in cases:
        for cl in (False, True):
            eps, per_step, cpu_per_step = bench(make, shape, make_opt, cl, args.steps)
            fmt = "channels_last" if cl else "nchw"
            if args.json:
                print(json.dumps({"case": label, "format": fmt, "examples_per_s": eps,
                                  "seconds_per_step": per_step,
                                  "cpu_seconds_per_step": cpu_per_step}))
            else:
                print(f"{label:>24}  {fmt:>13}  {eps:>10,.0f} examples/s  "
                      f"({per_step * 1e3:.1f} ms/step, thread CPU {cpu_per_step * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()

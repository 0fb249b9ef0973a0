#!/usr/bin/env python3
"""Torch reference throughput for optbench's `mlp_train_step` benchmark.

Trains the same MLPs as crates/models/benches/mlp.rs (784-128-10 and 784-256-256-10, ReLU,
cross-entropy, torch.optim.Adam(lr=1e-3)) on one thread and prints examples per second of the
training loop only: per step, gather the batch from a shuffled order, forward, backward, Adam
step. Data are random (values do not change the cost of dense layers).

Usage: /work/main/.venv/bin/python scripts/bench_torch_mlp.py [--examples 60000] [--epochs 3]
"""

import argparse
import json
import time

import torch


def bench(sizes, batch, n, epochs):
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i + 2 < len(sizes):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(n, sizes[0])
    y = torch.randint(0, sizes[-1], (n,))

    def epoch():
        perm = torch.randperm(n)
        for start in range(0, n, batch):  # last partial batch kept (drop_last=False)
            idx = perm[start:start + batch]
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()

    # Warm-up: a tenth of an epoch's worth of steps.
    perm = torch.randperm(n)
    for start in range(0, n // 10, batch):
        idx = perm[start:start + batch]
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x[idx]), y[idx]).backward()
        opt.step()
    t0 = time.perf_counter()
    for _ in range(epochs):
        epoch()
    dt = time.perf_counter() - t0
    return n * epochs / dt, dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=60000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print one JSON object per line")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{args.epochs} epochs of {args.examples} examples")
    for sizes in ([784, 128, 10], [784, 256, 256, 10]):
        for batch in (32, 128):
            eps, dt = bench(sizes, batch, args.examples, args.epochs)
            shape = "-".join(map(str, sizes))
            if args.json:
                print(json.dumps({"shape": shape, "batch": batch, "examples_per_s": eps, "seconds": dt}))
            else:
                print(f"{shape:>16}  batch {batch:>4}  {eps:>12,.0f} examples/s  ({dt:.2f} s)")


if __name__ == "__main__":
    main()

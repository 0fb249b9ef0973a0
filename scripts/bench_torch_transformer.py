#!/usr/bin/env python3
"""Torch reference throughput for optbench's `transformer_train_step` benchmark.

Trains the module of docs/networks.md (scripts/reference_transformer.py: 2 pre-LN layers,
d_model 128, 4 heads, MLP 512 with GELU, attention through F.scaled_dot_product_attention with
is_causal=True) on one thread: batches of 16 random windows of 65 bytes (context 64) out of a
64 KiB byte text, next-token cross-entropy at every position, backward,
torch.optim.AdamW(lr=1e-3). Prints training tokens per second (1,024 per step) in eager mode
and, if it works on this machine, under torch.compile; the main thread's CPU time per step
(`time.thread_time()`, which leaves out waiting for a core on a loaded machine; compare with the
benchmark's `2x128_ctx64_adamw_cpu_time` line); and GFLOP/s with PaLM's count
(6·N + 12·L·d·T FLOPs per token, N = 425,984 matrix-product parameters: 2.819 GFLOP per step).

Usage: .venv/bin/python scripts/bench_torch_transformer.py [--steps 50] [--no-compile] [--json]
Run it right before or after
`cargo bench -p optbench-models --bench bench_main -- transformer_train_step`
and report `uptime` with the numbers.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_transformer import Transformer  # noqa: E402

LAYERS, D, HEADS, CONTEXT, VOCAB, BATCH = 2, 128, 4, 64, 256, 16
MATMUL_PARAMS = LAYERS * 12 * D * D + D * VOCAB
FLOP_PER_STEP = (6 * MATMUL_PARAMS + 12 * LAYERS * D * CONTEXT) * BATCH * CONTEXT


def bench(steps, compile_model):
    torch.manual_seed(0)
    model = Transformer(VOCAB, CONTEXT, D, LAYERS, HEADS, 4 * D, nn.GELU())
    text = torch.randint(32, 127, (65_536,))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    fwd = torch.compile(model) if compile_model else model

    def step():
        starts = torch.randint(0, len(text) - CONTEXT - 1, (BATCH,))
        w = torch.stack([text[s:s + CONTEXT + 1] for s in starts.tolist()])
        opt.zero_grad(set_to_none=True)
        logits = fwd(w[:, :-1])
        F.cross_entropy(logits.flatten(0, 1), w[:, 1:].flatten()).backward()
        opt.step()

    for _ in range(5 if compile_model else 3):  # warm-up (and compilation)
        step()
    t0, c0 = time.perf_counter(), time.thread_time()
    for _ in range(steps):
        step()
    dt = (time.perf_counter() - t0) / steps
    cpu = (time.thread_time() - c0) / steps
    return BATCH * CONTEXT / dt, dt, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    ap.add_argument("--json", action="store_true", help="print one JSON object per line")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}, batch {BATCH}, "
          f"context {CONTEXT}, {args.steps} timed steps, {FLOP_PER_STEP / 1e9:.3f} GFLOP/step")
    modes = ["eager"] + ([] if args.no_compile else ["compile"])
    for mode in modes:
        try:
            tps, per_step, cpu_per_step = bench(args.steps, mode == "compile")
        except Exception as e:  # torch.compile needs a C++ compiler; report why it did not run
            print(f"{mode:>8}  did not run: {type(e).__name__}: {str(e).splitlines()[0][:120]}")
            continue
        gflops = FLOP_PER_STEP / per_step / 1e9
        if args.json:
            print(json.dumps({"mode": mode, "tokens_per_s": tps, "seconds_per_step": per_step,
                              "cpu_seconds_per_step": cpu_per_step, "gflop_per_s": gflops}))
        else:
            print(f"{mode:>8}  {tps:>10,.0f} tokens/s  ({per_step * 1e3:.2f} ms/step, "
                  f"{gflops:.1f} GFLOP/s; main thread's CPU time {cpu_per_step * 1e3:.2f} ms/step)")


if __name__ == "__main__":
    main()

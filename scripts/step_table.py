#!/usr/bin/env python3
"""Runs optbench's step benchmark and torch's in one go and prints a Markdown table.

    .venv/bin/python scripts/step_table.py [--sizes 1000000,16000000] [--no-cargo] [--no-torch]
                                          [--criterion-args "--warm-up-time 1 --measurement-time 3"]

By default the two are interleaved per optimizer (ours, then torch's same optimizer and torch's
fused SGD), so that a machine shared with other jobs loads both sides alike; `--no-interleave`
runs all of ours, then all of torch.

1. `cargo bench -p optbench-optim --bench step -- <criterion-args> <filter for the sizes>`
   (criterion group "step", function id = YAML name, parameter = n); the estimates are read from
   <target>/criterion/step/<id>/<n>/new/estimates.json (median point estimate, ns per step).
   `--no-cargo` reads the estimates of the last run instead.
2. scripts/bench_torch_step.py for the same sizes on one thread (fused where torch has it, else
   foreach; lion: the torch-ops reference), median ns per step. `--torch-json FILE` reuses a
   saved result instead (`--no-torch` leaves the torch columns empty).

Columns: ns/element (time per step / n) of ours and of torch's fastest implementation at each
size, our speed-up over it (torch time / our time), our bandwidth in GB/s (bytes per element x
n / time, with the byte counts of bench_torch_step.py: params read + written, gradient read,
every state buffer of the default configuration read + written) and its percentage of the
bandwidth torch's fused SGD reaches at the same n in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
NAMES = ["sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "nadam", "radam", "adamax",
         "lion"]


def bytes_per_element() -> dict:
    # Same counts as the torch script (kept in one place).
    src = (ROOT / "scripts" / "bench_torch_step.py").read_text()
    ns: dict = {}
    start = src.index("BYTES_PER_ELEMENT = {")
    end = src.index("}", start) + 1
    exec(src[start:end], ns)  # a dict literal of ints
    return ns["BYTES_PER_ELEMENT"]


def target_dir() -> Path:
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return Path(json.loads(out)["target_directory"])


BENCH_EXE: str | None = None


def run_cargo(sizes: list[int], criterion_args: str, name: str = "[a-z]+") -> None:
    filt = f"^step/{name}/(" + "|".join(str(n) for n in sizes) + ")$"
    if BENCH_EXE:
        # an already built bench binary: no cargo, no build lock
        cmd = [BENCH_EXE, "--bench", *shlex.split(criterion_args), filt]
    else:
        cmd = ["cargo", "bench", "-p", "optbench-optim", "--bench", "step", "--",
               *shlex.split(criterion_args), filt]
    print("$", " ".join(shlex.quote(c) for c in cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def read_ours(target: Path, sizes: list[int]) -> dict:
    ours = {}
    for name in NAMES:
        for n in sizes:
            path = target / "criterion" / "step" / name / str(n) / "new" / "estimates.json"
            if path.exists():
                est = json.loads(path.read_text())
                ours[(name, n)] = est["median"]["point_estimate"]
    return ours


def run_torch(sizes: list[int], names: list[str] | None = None) -> dict:
    python = ROOT / ".venv" / "bin" / "python"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "torch.json"
        cmd = [str(python if python.exists() else sys.executable),
               str(ROOT / "scripts" / "bench_torch_step.py"),
               "--sizes", ",".join(map(str, sizes)), "--json", str(out)]
        if names:
            cmd += ["--optimizers", ",".join(names)]
        print("$", " ".join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        return json.loads(out.read_text())


def fmt(x, spec: str) -> str:
    return "–" if x is None else format(x, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000000,16000000")
    ap.add_argument("--criterion-args", default="--warm-up-time 1 --measurement-time 3")
    ap.add_argument("--no-cargo", action="store_true", help="read the last criterion results")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--torch-json", help="reuse bench_torch_step.py --json output")
    ap.add_argument("--no-interleave", action="store_true")
    ap.add_argument("--bench-exe", help="run this built bench binary (target/release/deps/"
                    "step-<hash>) instead of `cargo bench`, e.g. while the target dir is locked")
    args = ap.parse_args()
    global BENCH_EXE
    BENCH_EXE = args.bench_exe
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    interleave = not (args.no_interleave or args.no_cargo or args.no_torch or args.torch_json)

    torch_best: dict = {}
    # torch's fused-SGD bandwidth per (optimizer block, n): measured next to each optimizer when
    # interleaved, once otherwise
    sgd_fused_gbs: dict = {}
    torch_version = None

    def absorb(tj: dict, block: str | None) -> None:
        nonlocal torch_version
        torch_version = tj["torch_version"]
        for r in tj["results"]:
            key = (r["optimizer"], r["n"])
            if r["optimizer"] == "sgd" and r["impl"] == "fused":
                sgd_fused_gbs[(block, r["n"])] = r["gb_per_s"]
            if block is not None and r["optimizer"] != block:
                continue
            if key not in torch_best or r["ns_per_step"] < torch_best[key]["ns_per_step"]:
                torch_best[key] = r

    ours: dict = {}
    if interleave:
        target = target_dir()
        for name in NAMES:
            run_cargo(sizes, args.criterion_args, name)
            # read at once: another criterion run in the shared target dir may overwrite it
            ours.update({k: v for k, v in read_ours(target, sizes).items() if k[0] == name})
            absorb(run_torch(sizes, [name] if name == "sgd" else [name, "sgd"]), name)
    else:
        if not args.no_cargo:
            run_cargo(sizes, args.criterion_args)
        if args.torch_json:
            absorb(json.loads(Path(args.torch_json).read_text()), None)
        elif not args.no_torch:
            absorb(run_torch(sizes), None)
        ours = read_ours(target_dir(), sizes)

    bpe = bytes_per_element()
    head = ["optimizer", "B/elt"]
    for n in sizes:
        head += [f"ours ns/elt @{n:,}", f"torch ns/elt @{n:,} (impl)", "speed-up",
                 f"ours GB/s @{n:,}", "% of torch fused-SGD GB/s"]
    print(f"Single thread, release build; torch {torch_version or '–'} (torch.set_num_threads(1)); "
          "median time per step; GB/s = bytes/element x n / time.")
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
    for name in NAMES:
        row = [name, str(bpe[name])]
        for n in sizes:
            t_ours = ours.get((name, n))
            tb = torch_best.get((name, n))
            ns_ours = None if t_ours is None else t_ours / n
            gbs = None if t_ours is None else bpe[name] * n / t_ours
            row.append(fmt(ns_ours, ".3f"))
            row.append("–" if tb is None else f"{tb['ns_per_element']:.3f} ({tb['impl']})")
            row.append("–" if tb is None or t_ours is None
                       else f"{tb['ns_per_step'] / t_ours:.2f}x")
            row.append(fmt(gbs, ".1f"))
            ref = sgd_fused_gbs.get((name, n), sgd_fused_gbs.get((None, n)))
            row.append("–" if ref is None or gbs is None else f"{100 * gbs / ref:.0f}%")
        print("| " + " | ".join(row) + " |")
    print()
    for (block, n), gbs in sorted(sgd_fused_gbs.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        where = f"next to {block}" if block else "once"
        print(f"torch fused SGD at n = {n:,} ({where}): {gbs:.1f} GB/s")


if __name__ == "__main__":
    main()

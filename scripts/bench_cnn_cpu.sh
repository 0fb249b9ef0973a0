#!/usr/bin/env bash
# The CNN training steps of optbench and PyTorch side by side, in thread CPU time per step (on
# a shared machine, time spent waiting for a core does not count): optbench's `cnn_cpu_time`
# example, then scripts/bench_torch_cnn.py (one thread, NCHW and channels_last), alternated
# `rounds` times; a table of the medians with the ratio against PyTorch's faster format, then
# the convolution layers' GFLOP/s as a fraction of the measured FMA peak (medians too).
# Needs .venv with torch (scripts/requirements-reference.txt).
# Usage: scripts/bench_cnn_cpu.sh [rounds=3] [steps=10]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
steps=${2:-10}
cargo build --release -q -p optbench-models --example cnn_cpu_time
ours=target/release/examples/cnn_cpu_time
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$rounds"); do
  "$ours" "$steps" | awk '$1 == "step" {print "ours", $2, $3} $1 != "step" {print}' >>"$out"
  .venv/bin/python scripts/bench_torch_cnn.py --steps "$steps" --json \
    | .venv/bin/python -c 'import json, sys
for line in sys.stdin:
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    print("torch_" + r["format"], r["case"], round(r["cpu_seconds_per_step"] * 1e3, 2))' >>"$out"
done
echo "# $(uptime)"
.venv/bin/python - "$out" <<'PY'
import statistics, sys
rows, convs, peaks = {}, {}, []
for line in open(sys.argv[1]):
    fields = line.split()
    if fields[0] == "peak":
        peaks.append(float(fields[1]))
    elif fields[0] == "conv":
        convs.setdefault(fields[1], []).append((float(fields[2]), float(fields[3])))
    else:
        who, case, ms = fields
        rows.setdefault(case, {}).setdefault(who, []).append(float(ms))
print(f"| network | optbench ms | torch NCHW ms | torch channels_last ms | speed-up vs faster torch |")
print("|---|---|---|---|---|")
for case, by in rows.items():
    med = {who: statistics.median(v) for who, v in by.items()}
    torch = min(med["torch_nchw"], med["torch_channels_last"])
    print(f"| {case} | {med['ours']:.1f} | {med['torch_nchw']:.1f} | "
          f"{med['torch_channels_last']:.1f} | {torch / med['ours']:.2f}× |")
peak = statistics.median(peaks)
print(f"\nOne core's FMA peak: {peak:.0f} GFLOP/s (thread CPU time)\n")
print("| convolution (forward + backward, batch 128) | optbench ms | GFLOP/s | of peak |")
print("|---|---|---|---|")
for label, runs in convs.items():
    ms = statistics.median(r[0] for r in runs)
    gflops = statistics.median(r[1] for r in runs)
    print(f"| {label} | {ms:.1f} | {gflops:.0f} | {gflops / peak:.0%} |")
PY

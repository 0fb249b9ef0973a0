#!/usr/bin/env bash
# The CNN training steps of optbench and PyTorch side by side, in thread CPU time per step (on
# a shared machine, time spent waiting for a core does not count): optbench's
# `cnn_step_cpu_time` example, then scripts/bench_torch_cnn.py (one thread, NCHW and
# channels_last), alternated `rounds` times, and a table of the medians with the ratio against
# PyTorch's faster format. Needs .venv with torch (scripts/requirements-reference.txt).
# Usage: scripts/bench_cnn_cpu.sh [rounds=3] [steps=10]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
steps=${2:-10}
cargo build --release -q -p optbench-models --example cnn_step_cpu_time
ours=target/release/examples/cnn_step_cpu_time
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$rounds"); do
  "$ours" "$steps" | sed 's/^/ours /' >>"$out"
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
rows = {}
for line in open(sys.argv[1]):
    who, case, ms = line.split()
    rows.setdefault(case, {}).setdefault(who, []).append(float(ms))
print(f"| network | optbench ms | torch NCHW ms | torch channels_last ms | speed-up vs faster torch |")
print("|---|---|---|---|---|")
for case, by in rows.items():
    med = {who: statistics.median(v) for who, v in by.items()}
    torch = min(med["torch_nchw"], med["torch_channels_last"])
    print(f"| {case} | {med['ours']:.1f} | {med['torch_nchw']:.1f} | "
          f"{med['torch_channels_last']:.1f} | {torch / med['ours']:.2f}× |")
PY

#!/usr/bin/env bash
# The `optbench history` demonstration of the README: a history store of N back-filled commits of
# the CI grid (experiments/ci.yaml), where Adam's learning rate goes from 0.01 to 0.02 at commit K
# (`--set optimizers.5.lr=0.02` for commits >= K). `history show` must find the change point of
# every Adam series that moved at exactly commit K, and nothing else in the convergence metrics.
#
#   scripts/history_demo.sh                 # N=32 K=20, into /tmp/optbench-history-demo
#   N=40 K=25 OUT=/tmp/h scripts/history_demo.sh
#
# Commits are named by the SHA-1 of "optbench history demo commit <k>" and dated one day apart
# from 2026-01-01 (`--commit` and `--date` back-fill). Exits 1 if the change point is not found
# at commit K.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-32}
K=${K:-20}
OUT=${OUT:-/tmp/optbench-history-demo}

cargo build --release -q -p optbench --bin optbench
bin=target/release/optbench
rm -rf "$OUT"
mkdir -p "$OUT"

for k in $(seq 1 "$N"); do
    sha=$(printf 'optbench history demo commit %d' "$k" | sha1sum | cut -c1-40)
    date=$(date -u -d "2026-01-01 + $((k - 1)) days" +%Y-%m-%dT12:00:00Z)
    lr=()
    if [ "$k" -ge "$K" ]; then
        lr=(--set optimizers.5.lr=0.02)
    fi
    "$bin" run experiments/ci.yaml --out "$OUT/run" --force --no-plots "${lr[@]}" >/dev/null 2>&1
    "$bin" history add "$OUT/store" "$OUT/run" --commit "$sha" --date "$date" \
        --label demo=adam-lr-step 2>/dev/null
done
rm -rf "$OUT/run"

"$bin" history show "$OUT/store" --out "$OUT/report" \
    --metric final_train_loss --metric final_test_loss --metric final_test_accuracy \
    | tee "$OUT/changes.md"

# Every change point must be Adam's, at commit K.
python3 - "$OUT/report/changes.json" "$K" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
k = int(sys.argv[2])
changes = report["change_points"]
wrong = [c for c in changes if c["commit_index"] != k or c["optimizer"] != "adam"]
if not changes or wrong:
    print(f"FAIL: {len(changes)} change points, {len(wrong)} not Adam's at commit {k}: {wrong}")
    sys.exit(1)
print(f"OK: {len(changes)} change points, all Adam's, all at commit {k} of {len(report['commits'])}")
PY

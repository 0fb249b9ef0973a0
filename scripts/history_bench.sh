#!/usr/bin/env bash
# Times `optbench history add` of a 1,000-run result to a store of 500 entries, and `optbench
# history show` of that store (release build). Prints a table with the machine's load.
#
#   scripts/history_bench.sh          # work folder /tmp/optbench-history-bench (deleted at the end)
#   KEEP=1 scripts/history_bench.sh   # keep it (the store, the results and the report)
#
# The result: 2 problems (rosenbrock, quadratic) x 10 optimizers x 5 learning rates x 10 seeds =
# 1,000 runs (100 cells), 50 steps each. Ten results of the same plan (they differ in their wall
# times only) are cycled to fill the store with 500 commits, so the convergence series are
# constant and the speed series noisy, as in a real CI history.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=${WORK:-/tmp/optbench-history-bench}
cargo build --release -q -p optbench --bin optbench
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/optbench
rm -rf "$WORK"
mkdir -p "$WORK"
if [ -z "${KEEP:-}" ]; then
    trap 'rm -rf "$WORK"' EXIT
fi

cat > "$WORK/bench.yaml" <<'YAML'
name: history-bench
seeds: 10
problems:
  - name: rosenbrock
    init: [-1.5, 2.0]
  - name: quadratic
train:
  steps: 50
  batch_size: full
  eval_every: 10
optimizers:
  - {name: sgd, lr: [0.0001, 0.0003, 0.001, 0.003, 0.01]}
  - {name: sgd, momentum: 0.9, lr: [0.0001, 0.0003, 0.001, 0.003, 0.01]}
  - {name: adagrad, lr: [0.01, 0.03, 0.1, 0.3, 1.0]}
  - {name: adadelta, lr: [0.1, 0.3, 1.0, 3.0, 10.0]}
  - {name: rmsprop, lr: [0.0001, 0.0003, 0.001, 0.003, 0.01]}
  - {name: adam, lr: [0.001, 0.003, 0.01, 0.03, 0.1]}
  - {name: adamw, lr: [0.001, 0.003, 0.01, 0.03, 0.1]}
  - {name: nadam, lr: [0.001, 0.003, 0.01, 0.03, 0.1]}
  - {name: radam, lr: [0.001, 0.003, 0.01, 0.03, 0.1]}
  - {name: lion, lr: [0.0001, 0.0003, 0.001, 0.003, 0.01]}
YAML

for r in $(seq 0 9); do
    "$bin" run "$WORK/bench.yaml" --out "$WORK/r$r" --no-plots -j 1 >/dev/null 2>&1
done
runs=$(python3 -c "import json; print(json.load(open('$WORK/r0/manifest.json'))['ran_runs'])")

echo "filling the store with 500 commits..."
for k in $(seq 1 500); do
    date=$(date -u -d "2025-01-01 + $k hours" +%Y-%m-%dT%H:00:00Z)
    "$bin" history add "$WORK/store" "$WORK/r$((k % 10))" --commit "c$k" --date "$date" 2>/dev/null
done

# Seconds of wall time of a command, to the millisecond.
seconds() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    python3 -c "print(f'{$t1 - $t0:.3f}')"
}

add_times=()
for k in 1 2 3 4 5; do
    add_times+=("$(seconds "$bin" history add "$WORK/store" "$WORK/r$k" --commit "new$k" --date 2026-01-01)")
    rm -f "$WORK/store/new$k.parquet"
done
show_times=()
both_times=()
for k in 1 2 3; do
    show_times+=("$(seconds "$bin" history show "$WORK/store" --out "$WORK/report")")
    both_times+=("$(seconds "$bin" history show "$WORK/store" --out "$WORK/report-both" --format both)")
done
files=$(ls "$WORK/report" | wc -l)
both_files=$(ls "$WORK/report-both" | wc -l)
changes=$(python3 -c "import json; print(len(json.load(open('$WORK/report/changes.json'))['change_points']))")

echo
echo "| what | times (s) | best (s) |"
echo "|---|---|---:|"
echo "| history add: a $runs-run result to a store of 500 | ${add_times[*]} | $(printf '%s\n' "${add_times[@]}" | sort -n | head -1) |"
echo "| history show: 500 commits, $files files (SVG), $changes change points | ${show_times[*]} | $(printf '%s\n' "${show_times[@]}" | sort -n | head -1) |"
echo "| history show --format both: $both_files files (PNG and SVG) | ${both_times[*]} | $(printf '%s\n' "${both_times[@]}" | sort -n | head -1) |"
echo
echo "store: $(ls "$WORK/store" | wc -l) files, $(du -sh "$WORK/store" | cut -f1); $(nproc) cores; load: $(uptime | sed 's/.*load average: //')"

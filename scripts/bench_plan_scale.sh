#!/usr/bin/env bash
# Plans at cluster scale: how long `optbench validate` takes on the 1,000,000-run grid of
# experiments/bench/plan_1m.yaml and how much memory it needs, and how long `optbench run`
# takes to finish its first run (the first part file on disk), with its peak memory then.
# Target (ARCHITECTURE.md, "plans at cluster scale"): both within 3 s and 300 MB.
#
#   cargo build --release && scripts/bench_plan_scale.sh [path/to/optbench] [repeats]
#
# Prints one table row per measurement; report `uptime` with it (the machine is shared).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/optbench}
repeats=${2:-3}
plan=experiments/bench/plan_1m.yaml
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

printf '%-28s %10s %12s\n' measurement seconds peak_MB
for _ in $(seq "$repeats"); do
    /usr/bin/time -f '%e %M' -o "$out/time" "$bin" validate "$plan" >/dev/null
    read -r secs kb <"$out/time"
    printf '%-28s %10.2f %12.1f\n' "validate" "$secs" "$(echo "$kb / 1024" | bc -l)"
done

for _ in $(seq "$repeats"); do
    rm -rf "$out/results"
    start=$(date +%s.%N)
    "$bin" run "$plan" --out "$out/results" --jobs 1 --no-plots >/dev/null 2>&1 &
    pid=$!
    # The first finished run is the first file in parts/ (written atomically by rename).
    until compgen -G "$out/results/parts/*.part" >/dev/null; do
        kill -0 "$pid" 2>/dev/null || { echo "optbench run exited before its first run" >&2; exit 1; }
        sleep 0.005
    done
    end=$(date +%s.%N)
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    kill -INT "$pid"
    wait "$pid" 2>/dev/null || true
    printf '%-28s %10.2f %12.1f\n' "run: first part file" "$(echo "$end - $start" | bc -l)" \
        "$(echo "$hwm / 1024" | bc -l)"
done
uptime

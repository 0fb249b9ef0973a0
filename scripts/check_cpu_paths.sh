#!/usr/bin/env bash
# The same bits on every x86-64 CPU: runs the CI grid (experiments/ci.yaml: every optimizer on
# every problem family, an MLP included) natively and under Debian's qemu-user with
# `-cpu Haswell` (AVX2+FMA, no AVX-512) and `-cpu Nehalem` (SSE4.2: the baseline path, where
# `mul_add` is the libm `fmaf` call), and compares runs.parquet and metrics.parquet with the
# native run's, every value but wall_time_s, bit for bit (examples/results_fingerprint.rs).
# The native path is the best this CPU has (AVX-512 on Skylake-X and Zen 4). Exits 1 on any
# difference, printing the first differing lines.
#
#   scripts/check_cpu_paths.sh            # debug build (as .ci/run); PROFILE=release for release
#
# Not part of .ci/run: it needs qemu-x86_64 (Debian: apt-get install qemu-user); it prints
# its run time at the end. An aarch64 run is not part of it: the development machine has no
# aarch64 Rust target or cross linker (see ARCHITECTURE.md).
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=${PROFILE:-debug}
flag=()
[ "$PROFILE" = release ] && flag=(--release)
command -v qemu-x86_64 >/dev/null || { echo "qemu-x86_64 not found (apt-get install qemu-user)" >&2; exit 2; }
cargo build -q "${flag[@]}" -p optbench --bin optbench --example results_fingerprint
bin=$PWD/target/$PROFILE/optbench
fingerprint=$PWD/target/$PROFILE/examples/results_fingerprint
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

t_all=$(date +%s.%N)
status=0
for cpu in native Haswell Nehalem; do
    t0=$(date +%s.%N)
    if [ "$cpu" = native ]; then
        runner=()
    else
        runner=(qemu-x86_64 -cpu "$cpu")
    fi
    "${runner[@]}" "$bin" run experiments/ci.yaml --out "$work/$cpu" --no-plots --jobs 1 \
        2>"$work/$cpu.log" || { cat "$work/$cpu.log" >&2; exit 1; }
    "$fingerprint" "$work/$cpu" >"$work/$cpu.txt"
    runs=$(sed -n 's/^# runs.parquet: \([0-9]*\) rows/\1/p' "$work/$cpu.txt")
    values=$(wc -w <"$work/$cpu.txt")
    t1=$(date +%s.%N)
    if [ "$cpu" = native ]; then
        verdict="reference"
    elif cmp -s "$work/native.txt" "$work/$cpu.txt"; then
        verdict="identical to native"
    else
        verdict="DIFFERENT from native"
        status=1
        diff "$work/native.txt" "$work/$cpu.txt" | cut -c1-200 | head -10
    fi
    printf '%-8s %4s runs, %7s values  %6.1f s  %s\n' "$cpu" "$runs" "$values" \
        "$(echo "$t1 - $t0" | bc)" "$verdict"
done
printf 'total %.1f s (%s build, load: %s)\n' "$(echo "$(date +%s.%N) - $t_all" | bc)" "$PROFILE" \
    "$(uptime | sed 's/.*load average: //')"
exit $status

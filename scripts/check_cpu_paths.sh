#!/usr/bin/env bash
# The same bits on every CPU: runs the CI grid (experiments/ci.yaml: every optimizer on
# every problem family, an MLP included) natively and under Debian's qemu-user with
# `-cpu Haswell` (AVX2+FMA, no AVX-512) and `-cpu Nehalem` (SSE4.2: the baseline path, where
# `mul_add` is the libm `fmaf` call), and compares runs.parquet and metrics.parquet with the
# native run's, every value but wall_time_s, bit for bit (examples/results_fingerprint.rs).
# The native path is the best this CPU has (AVX-512 on Skylake-X and Zen 4). Exits 1 on any
# difference, printing the first differing lines.
#
#   scripts/check_cpu_paths.sh            # debug build (as .ci/run); PROFILE=release for release
#
# Then, if the cross tools are there, the same on aarch64: a cross build of the binary (target
# aarch64-unknown-linux-gnu, in target/cross/, linked by aarch64-linux-gnu-gcc through
# CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER) run under `qemu-aarch64 -L /usr/aarch64-linux-gnu`.
# Without them the step is skipped with a message saying what is missing. To install them on
# Debian: `rustup target add aarch64-unknown-linux-gnu` and
# `apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user`. AARCH64=0 skips it;
# AARCH64_PROFILE=release cross-builds in release whatever PROFILE is (profiles must not change
# a bit, and one cross build of the dependencies is enough).
# The first cross build compiles every dependency for aarch64 (polars included: long).
#
# Not part of .ci/run: it needs qemu-user (Debian: apt-get install qemu-user); it prints its run
# time at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=${PROFILE:-debug}
flag=()
[ "$PROFILE" = release ] && flag=(--release)
AARCH64_PROFILE=${AARCH64_PROFILE:-$PROFILE}
aflag=()
[ "$AARCH64_PROFILE" = release ] && aflag=(--release)
command -v qemu-x86_64 >/dev/null || { echo "qemu-x86_64 not found (apt-get install qemu-user)" >&2; exit 2; }
cargo build -q "${flag[@]}" -p optbench --bin optbench --example results_fingerprint
bin=$PWD/target/$PROFILE/optbench
fingerprint=$PWD/target/$PROFILE/examples/results_fingerprint
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# What the aarch64 step lacks, empty when it can run.
aarch64_missing() {
    local gcc=${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER:-aarch64-linux-gnu-gcc} m=()
    rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu ||
        m+=("the Rust target (rustup target add aarch64-unknown-linux-gnu)")
    command -v "$gcc" >/dev/null || m+=("the linker $gcc (apt-get install gcc-aarch64-linux-gnu)")
    [ -e /usr/aarch64-linux-gnu/lib/libc.so.6 ] ||
        m+=("the aarch64 C library (apt-get install libc6-dev-arm64-cross)")
    command -v qemu-aarch64 >/dev/null || m+=("qemu-aarch64 (apt-get install qemu-user)")
    (IFS=';'; echo "${m[*]}")
}

cpus=(native Haswell Nehalem)
if [ "${AARCH64:-1}" = 0 ]; then
    echo "aarch64: skipped (AARCH64=0)"
elif missing=$(aarch64_missing) && [ -n "$missing" ]; then
    echo "aarch64: skipped, missing: $missing"
else
    t0=$(date +%s.%N)
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER:-aarch64-linux-gnu-gcc} \
    CC_aarch64_unknown_linux_gnu=${CC_aarch64_unknown_linux_gnu:-aarch64-linux-gnu-gcc} \
    AR_aarch64_unknown_linux_gnu=${AR_aarch64_unknown_linux_gnu:-aarch64-linux-gnu-ar} \
        cargo build -q "${aflag[@]}" --target aarch64-unknown-linux-gnu \
        --target-dir "$PWD/target/cross" -p optbench --bin optbench
    aarch64_bin=$PWD/target/cross/aarch64-unknown-linux-gnu/$AARCH64_PROFILE/optbench
    printf 'aarch64 cross build (%s) %.1f s\n' "$AARCH64_PROFILE" "$(echo "$(date +%s.%N) - $t0" | bc)"
    cpus+=(aarch64)
fi

t_all=$(date +%s.%N)
status=0
for cpu in "${cpus[@]}"; do
    t0=$(date +%s.%N)
    exe=$bin
    case $cpu in
        native) runner=() ;;
        aarch64) runner=(qemu-aarch64 -L /usr/aarch64-linux-gnu); exe=$aarch64_bin ;;
        *) runner=(qemu-x86_64 -cpu "$cpu") ;;
    esac
    "${runner[@]}" "$exe" run experiments/ci.yaml --out "$work/$cpu" --no-plots --jobs 1 \
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

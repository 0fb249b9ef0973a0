#!/usr/bin/env bash
# Size and speed of report.html on a synthetic 1,000-run sweep (issue 13: `report --html` at most
# 2 s and 5 MB, interactive in headless Chromium within 2 s).
#
#   scripts/bench_html_report.sh                    # 1,000 runs × 101 metric rows
#   RUNS=1000 RECORDS=1001 scripts/bench_html_report.sh
#   PROFILE=debug scripts/bench_html_report.sh      # the debug build (no release build needed)
#
# Builds the release (or PROFILE=debug) test binary of crates/cli/tests/html_report.rs and runs its ignored
# measurement `html_report_size_and_speed`: it writes the synthetic folder
# (crates/analysis/src/plot/synthetic.rs) and its figures into a temporary folder, times five runs
# of `optbench report DIR --html`, prints the page's size, then loads the page three times in
# headless Chromium (if one is installed) and prints when it became interactive. Prints the load
# average too: the machine is shared, so compare numbers taken at similar load.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPTBENCH_BENCH_RUNS="${RUNS:-1000}"
export OPTBENCH_BENCH_RECORDS="${RECORDS:-101}"
flag=(--release)
[ "${PROFILE:-release}" = debug ] && flag=()
echo "load before: $(uptime)"
cargo test "${flag[@]}" -q -p optbench --test html_report -- --ignored --nocapture \
    --exact html_report_size_and_speed
echo "load after: $(uptime)"

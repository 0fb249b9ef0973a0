#!/usr/bin/env bash
# Submit an optbench sweep to Slurm: a job array of N shards and a merge job after it.
#
#   scripts/slurm/submit.sh EXPERIMENT.yaml N [OUT] [-- extra sbatch options for the shards]
#
#   EXPERIMENT.yaml  the experiment (on the shared file system; data paths are relative to it)
#   N                number of shards (array tasks 0..N-1); each uses --cpus-per-task cores
#   OUT              results folder on the shared file system [results/<experiment name>]
#
# Environment: OPTBENCH (path of the binary, default `optbench` on PATH), OPTBENCH_ARGS (extra
# flags for `optbench run`, e.g. "--set seeds=10"), MAX_PARALLEL (run at most this many shards
# at once: --array=0-<N-1>%K), MERGE_AFTER (afterany [default] or afterok).
#
# The merge job waits with afterany: it starts when every shard has ended, however it ended,
# and `optbench merge` itself checks completeness against the plan (exit 2, listing what is
# missing). With afterok a single shard exiting non-zero (optbench run exits 1 when a run
# failed) would leave the merge pending forever.
set -euo pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[[ $# -ge 2 ]] || usage
EXPERIMENT=$1
N=$2
shift 2
OUT=""
if [[ $# -gt 0 && $1 != "--" ]]; then OUT=$1; shift; fi
[[ $# -gt 0 && $1 == "--" ]] && shift
[[ -f $EXPERIMENT ]] || { echo "submit.sh: no experiment file $EXPERIMENT" >&2; exit 2; }
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: N must be a positive integer, got $N" >&2; exit 2; }

OPTBENCH=${OPTBENCH:-optbench}
HERE=$(cd "$(dirname "$0")" && pwd)
# Validate the experiment before queueing anything (fails fast with the file's own error).
"$OPTBENCH" validate "$EXPERIMENT"
if [[ -z $OUT ]]; then
    NAME=$(sed -n 's/^name:[[:space:]]*["'"'"']\{0,1\}\([^"'"'"'#[:space:]]*\).*/\1/p' "$EXPERIMENT" | head -n1)
    [[ -n $NAME ]] || { echo "submit.sh: cannot read the experiment's name; pass OUT" >&2; exit 2; }
    OUT=results/$NAME
fi
mkdir -p "$OUT"

ARRAY="0-$((N - 1))"
[[ -n ${MAX_PARALLEL:-} ]] && ARRAY="$ARRAY%$MAX_PARALLEL"
# Passed through the environment (--export=ALL) rather than --export=VAR=value lists, which
# split on commas.
export EXPERIMENT OUT OPTBENCH
export OPTBENCH_ARGS=${OPTBENCH_ARGS:-}

ARRAY_ID=$(sbatch --parsable --array="$ARRAY" --export=ALL "$@" "$HERE/optbench-array.sbatch")
ARRAY_ID=${ARRAY_ID%%;*}
MERGE_ID=$(sbatch --parsable --dependency="${MERGE_AFTER:-afterany}:$ARRAY_ID" \
    --kill-on-invalid-dep=yes --export=ALL "$HERE/optbench-merge.sbatch")
MERGE_ID=${MERGE_ID%%;*}

echo "shards: job array $ARRAY_ID (tasks $ARRAY) -> $OUT"
echo "merge:  job $MERGE_ID (after $ARRAY_ID)"
echo "watch:  squeue -j $ARRAY_ID,$MERGE_ID"

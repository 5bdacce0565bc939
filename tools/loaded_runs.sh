#!/usr/bin/env bash
# `make soak RUNS=5`: the whole suite, run again and again on a fresh clone under CPU load, to
# show it does not flake (issue 19, item 6). One line per run in bench/results/soak-<stamp>.log:
#
#   run  commit  start (UTC)  seconds  exit  tests  load (1-min average: mean/max, sampled 5 s)
#
# The clone is of the current commit (uncommitted changes are not in it: a warning says so),
# made in a temporary directory with ../shared linked beside it as CI has it (when this checkout
# has one). `stress-ng --cpu 2` (Debian's, installed as root if missing, as `make browser` does
# Chromium) runs for the whole time. Each run is `CI=true make $SOAK_TARGET` with no stdin, as
# .ci/run does. The output of a failed run is kept beside the log; the clone is removed at the
# end. Exits 1 if any run failed.
#
#   RUNS=5                 how many runs
#   SOAK_TARGET=test       the make target of each run (test-unit: a quick check of this script)
#   SOAK_STRESS="--cpu 2"  stress-ng's load (empty: none)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-5}
TARGET=${SOAK_TARGET:-test}
STRESS=${SOAK_STRESS---cpu 2}
RESULTS=$ROOT/bench/results
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
LOG=$RESULTS/soak-$STAMP.log
KEPT=$RESULTS/soak-$STAMP

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "soak: RUNS must be a positive number, got '$RUNS'" >&2; exit 2; }
COMMIT=$(git -C "$ROOT" rev-parse HEAD)
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]; then
  echo "soak: uncommitted changes are not part of the runs (they test $COMMIT)" >&2
fi

if [ -n "$STRESS" ] && ! command -v stress-ng >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "soak: stress-ng is missing: apt-get install stress-ng (as root)" >&2
    exit 2
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stress-ng \
    || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stress-ng)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX")
CLONE=$WORK/ticketing
stress_pid=
sampler_pid=
cleanup() {
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  [ -n "$stress_pid" ] && kill "$stress_pid" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

git clone --quiet --no-hardlinks "$ROOT" "$CLONE"
git -C "$CLONE" checkout --quiet --detach "$COMMIT"
[ -e "$ROOT/../shared" ] && ln -s "$(cd "$ROOT/../shared" && pwd)" "$WORK/shared"

if [ -n "$STRESS" ]; then
  # shellcheck disable=SC2086  # the flags are words
  stress-ng $STRESS --timeout 0 --quiet &
  stress_pid=$!
fi

mkdir -p "$RESULTS"
printf '%-4s %-12s %-20s %8s %4s  %-40s %s\n' run commit start seconds exit tests load >"$LOG"
failed=0
for run in $(seq 1 "$RUNS"); do
  out=$WORK/run-$run.out
  loads=$WORK/run-$run.load
  (while sleep 5; do cut -d' ' -f1 /proc/loadavg; done >"$loads") &
  sampler_pid=$!
  start=$(date -u +%Y-%m-%dT%H:%M:%S)
  began=$(date +%s)
  status=0
  (cd "$CLONE" && CI=true make "$TARGET") </dev/null >"$out" 2>&1 || status=$?
  seconds=$(($(date +%s) - began))
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=
  cut -d' ' -f1 /proc/loadavg >>"$loads"
  load=$(awk '{s += $1; if ($1 > m) m = $1} END {printf "%.1f/%.1f", s / NR, m}' "$loads")
  # pytest's last summary line, e.g. "1185 passed, 2 failed in 812.40s (0:13:32)".
  tests=$(grep -E '[0-9]+ (passed|failed|errors?)' "$out" | tail -1 \
    | grep -oE '[0-9]+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed)' \
    | paste -sd, - || true)
  tests=${tests:-none}
  printf '%-4s %-12s %-20s %8s %4s  %-40s %s\n' \
    "$run" "${COMMIT:0:12}" "$start" "$seconds" "$status" "${tests// /_}" "$load" >>"$LOG"
  if [ "$status" != 0 ]; then
    failed=$((failed + 1))
    mkdir -p "$KEPT"
    cp "$out" "$KEPT/"
  fi
  tail -1 "$LOG"
done

echo
cat "$LOG"
echo "soak: $((RUNS - failed)) of $RUNS runs of \`make $TARGET\` passed under stress-ng ${STRESS:-(none)}; log: $LOG"
if [ "$failed" != 0 ]; then
  echo "soak: the failed runs' output: $KEPT/" >&2
  exit 1
fi

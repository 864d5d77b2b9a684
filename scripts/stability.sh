#!/usr/bin/env bash
# Stability of the verdicts: runs every bundled scenario (conformance ones
# included) N times on a quiet machine, then N times with `stress-ng --cpu`
# competing for every core, and prints a tally per scenario: how many runs
# met their expectation in each condition. A verdict someone gates a release
# on must not depend on the machine's speed; the target is N/N in both.
#   scripts/stability.sh [N] [PATH...]   (default 20, scenarios/)
# LASTCALL=path/to/lastcall picks the binary (default build/harness/lastcall);
# JOBS (default 1) runs that many scenario runs side by side; KEEP=DIR keeps
# every run's reports there (default: removed at the end).
# Exits 1 when any scenario missed its expectation in any run.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
shift || true
paths=("$@")
((${#paths[@]})) || paths=(scenarios)
lastcall=${LASTCALL:-build/harness/lastcall}
jobs=${JOBS:-1}
command -v stress-ng >/dev/null || { echo "stability.sh needs stress-ng (apt-get install stress-ng)" >&2; exit 3; }

if [[ -n ${KEEP:-} ]]; then mkdir -p "$KEEP"; out=$KEEP
else out=$(mktemp -d "${TMPDIR:-/tmp}/stability-XXXXXX"); fi
stress=""
cleanup() {
  [[ -n $stress ]] && kill "$stress" 2>/dev/null && wait "$stress" 2>/dev/null
  [[ -n ${KEEP:-} ]] || rm -rf "$out"
}
trap cleanup EXIT

# run CONDITION: every scenario `rounds` times, reports in $out/CONDITION.
run() {
  local condition=$1
  echo "== $condition: ${paths[*]} x $rounds ($(date -u +%FT%TZ))" >&2
  "$lastcall" run --quiet --repeat "$rounds" --jobs "$jobs" --reports "$out/$condition" \
    "${paths[@]}" >"$out/$condition.log" 2>&1 || true
  tail -n 1 "$out/$condition.log" >&2
}

# tally CONDITION: "name met" per scenario, from each repetition's result.json.
tally() {
  find "$out/$1" -name result.json -path '*/[0-9]*/result.json' -print0 |
    xargs -0 -r jq -r '[.scenario, (if .expectation_met then 1 else 0 end)] | @tsv' |
    awk -F'\t' '{runs[$1]++; met[$1] += $2} END {for (s in runs) print s "\t" met[s] "/" runs[s]}'
}

run quiet
stress-ng --cpu "$(nproc)" --timeout 0 --quiet &
stress=$!
run stress
kill "$stress"; wait "$stress" 2>/dev/null || true; stress=""

# Each run that missed its expectation, with lastcall's reason.
find "$out" -name result.json -path '*/[0-9]*/result.json' -print0 |
  xargs -0 -r jq -r 'select(.expectation_met | not) | "missed: \(.scenario): \(.message)"' |
  sort | uniq -c
printf '%-60s %8s %8s\n' scenario quiet stress
join -t $'\t' -a1 -a2 -e - -o 0,1.2,2.2 <(tally quiet | sort) <(tally stress | sort) |
  awk -F'\t' '{printf "%-60s %8s %8s\n", $1, $2, $3; split($2, q, "/"); split($3, s, "/");
               if (q[1] != q[2] || s[1] != s[2]) bad = 1} END {exit bad}'

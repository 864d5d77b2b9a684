#!/usr/bin/env bash
# Trigger-to-signal figures: runs SCENARIO N times in one
# `lastcall run --repeat N` and prints, over every fault that fired, the
# latency from the trigger's moment to kill(2) (median, p99, max), and for
# database triggers the mean time per poll of pg_stat_activity and in how
# many runs transactions were still open just after the signal (the signal
# landed inside them).
#   scripts/trigger-latency.sh [--runs N] [--build DIR] SCENARIO
set -euo pipefail
cd "$(dirname "$0")/.."

runs=100
build=build
scenario=
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -*) echo "usage: $0 [--runs N] [--build DIR] SCENARIO" >&2; exit 2 ;;
    *) scenario=$1; shift ;;
  esac
done
[[ -n $scenario ]] || { echo "usage: $0 [--runs N] [--build DIR] SCENARIO" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/harness/lastcall" run --quiet --repeat "$runs" --reports "$work" "$scenario" >/dev/null || true
python3 - "$work" <<'PY'
import glob, json, statistics, sys
latencies, polls, landed, db_runs, met, total = [], [], 0, 0, 0, 0
for path in sorted(glob.glob(sys.argv[1] + "/*/*/result.json")):
    result = json.load(open(path))
    total += 1
    met += result["expectation_met"]
    for fault in result["faults"]:
        if "trigger_latency_us" in fault:
            latencies.append(fault["trigger_latency_us"])
        if "poll_interval_us" in fault:
            db_runs += 1
            polls.append(fault["poll_interval_us"])
            landed += fault.get("transactions_open_after_signal", 0) > 0
if not latencies:
    sys.exit("no fault fired")
latencies.sort()
p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
print(f"runs: {total}, expectation met: {met}")
print(f"trigger -> kill(2): median {statistics.median(latencies):.1f} us, "
      f"p99 {p99:.1f} us, max {latencies[-1]:.1f} us over {len(latencies)} signals")
if db_runs:
    print(f"database watch: mean time per poll, median over runs {statistics.median(polls):.0f} us; "
          f"transactions still open just after the signal in {landed} of {db_runs} runs")
PY

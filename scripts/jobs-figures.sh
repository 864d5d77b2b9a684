#!/usr/bin/env bash
# The background-job figures of docs/performance.md, from
# scenarios/jobs-sigterm.yaml with overrides:
#   throughput  jobs/s the reference target's workers sustain: 20,000 jobs
#               enqueued at once, no simulated work per job (JOB_LATENCY=0),
#               for each worker count; the target logs its rate at shutdown
#   shutdown    SIGTERM with every worker holding a job of JOB_LATENCY=500ms:
#               the drain time (signal to exit) for each worker count
# Usage: scripts/jobs-figures.sh [throughput|shutdown] [WORKERS...]
#        (default: both; workers 1 4 16)
set -euo pipefail
cd "$(dirname "$0")/.."
lastcall=${LASTCALL:-build/harness/lastcall}
scenario=${SCENARIO:-scenarios/jobs-sigterm.yaml}
mode=${1:-both}
shift || true
workers=("${@:-1 4 16}")
read -r -a workers <<< "${workers[*]}"
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT

run() {  # run NAME WORKERS --set...
  local name=$1 n=$2
  shift 2
  "$lastcall" run --quiet --reports "$reports/$name" "$scenario" \
    --set "target.command.6=$n" "$@" >/dev/null || true
}

if [[ $mode == throughput || $mode == both ]]; then
  echo "workers  jobs done  jobs/s (first claim to last done, the target's own log line)"
  for n in "${workers[@]}"; do
    run "throughput-$n" "$n" --set target.env.JOB_LATENCY=0 --set jobs.enqueue=20000 \
      --set jobs.rate=1000000 --set load.duration=4s --set faults.0.at=3500ms
    line=$(grep -h 'job workers:' "$reports/throughput-$n"/*/target.log | tail -1)
    done_=$(sed -n 's/.*job workers: \([0-9]*\) jobs done.*/\1/p' <<< "$line")
    rate=$(sed -n 's/.*jobs done (\([0-9-]*\) jobs\/s).*/\1/p' <<< "$line")
    printf '%7s  %9s  %s\n' "$n" "$done_" "$rate"
  done
fi

if [[ $mode == shutdown || $mode == both ]]; then
  # The queue never empties (1000 jobs/s enqueued against at most 32 done),
  # so at the signal every worker holds a job with up to 500 ms of work left.
  echo "workers  jobs held at the signal  drain (signal to exit)  jobs check"
  for n in "${workers[@]}"; do
    run "shutdown-$n" "$n" --set target.env.JOB_LATENCY=500ms --set faults.0.at=1200ms
    result=$(ls "$reports/shutdown-$n"/*/result.json)
    drain=$(jq -r '.instances[0].drain_time' "$result")
    check=$(jq -r '.checks[] | select(.name == "jobs") | .status' "$result")
    printf '%7s  %22s  %20.3f s  %s\n' "$n" "$n" "$drain" "$check"
  done
fi

#!/usr/bin/env bash
# lastcall's load generator side by side with wrk, in one run: the
# same server instance, the same endpoint (GET /healthz), the same number of
# connections (keep-alive), the same duration.
#   scripts/bench-wrk.sh [--clients N] [--duration SECONDS] [--wrk-threads N]
#                        [--build DIR] [--server PATH]
# Prints requests/s and latency p50/p99 of each tool, and lastcall's share of
# wrk's requests/s (the target is >= 70 %). Exit 1 when the share is below it.
# The server is DIR/harness/bench/healthz_server (DIR: build), which answers
# as fast as it can; --server build/targets/payment-server/payment-server
# drives the reference target's /healthz instead.
#
# The whole comparison is one `lastcall run` (the reference target needs the
# run's database): the target's start script starts the server, runs wrk
# against it, then prints "wrk done", which is the readiness lastcall waits
# for before it drives its own load for the same duration. Neither tool
# competes with the other for the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."

clients=16 duration=5 wrk_threads=2
build=build
server=
while (($#)); do
  case $1 in
    --clients) clients=$2 ;;
    --duration) duration=$2 ;;
    --wrk-threads) wrk_threads=$2 ;;
    --build) build=$2 ;;
    --server) server=$2 ;;
    *) echo "usage: $0 [--clients N] [--duration SECONDS] [--wrk-threads N] [--build DIR] [--server PATH]" >&2
       exit 2 ;;
  esac
  shift 2
done
lastcall=$build/harness/lastcall
server=$(realpath "${server:-$build/harness/bench/healthz_server}")
for tool in wrk jq; do
  command -v $tool >/dev/null || { echo "$tool is missing: apt-get install $tool" >&2; exit 3; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/target.sh" <<'EOF'
#!/usr/bin/env bash
# Started by lastcall with the port as $1: the server, then wrk against it.
set -u
"$BENCH_SERVER" --port "$1" &
deadline=$((SECONDS + 10))
until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
  ((SECONDS < deadline)) || { echo "the server did not listen within 10 s" >&2; exit 1; }
  sleep 0.02
done
wrk -t"$BENCH_WRK_THREADS" -c"$BENCH_CLIENTS" -d"${BENCH_DURATION}s" --latency \
    "http://127.0.0.1:$1/healthz" >"$BENCH_WRK_OUT"
echo "wrk done"
wait
EOF

cat >"$work/bench-wrk.yaml" <<EOF
description: lastcall's load against wrk's, GET /healthz, $clients connections, ${duration}s
seed: 1
database:
  schema: $PWD/targets/payment-server/schema.sql
target:
  command: [bash, $work/target.sh, "\${port}"]
  env: {BENCH_SERVER: $server, BENCH_WRK_OUT: $work/wrk.txt,
        BENCH_CLIENTS: "$clients", BENCH_DURATION: "$duration",
        BENCH_WRK_THREADS: "$wrk_threads"}
  ready: {log: "^wrk done", timeout: $((duration + 30))s}
load:
  clients: $clients
  duration: ${duration}s
  keep_alive: true
  request: {method: GET, path: /healthz, timeout: 5s}
audit:
  applied: SELECT 'none', 1 WHERE false
  checks: [faults]
expect: pass
EOF

"$lastcall" run --reports "$work/reports" "$work/bench-wrk.yaml" >"$work/lastcall.txt" || {
  cat "$work/lastcall.txt" >&2
  exit 3
}
report=$work/reports/bench-wrk

# wrk's "50%  1.23ms" lines, in milliseconds.
wrk_percentile() {
  awk -v p="$1%" '$1 == p {
    v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
    print v * (unit == "us" ? 0.001 : unit == "s" ? 1000 : 1); exit }' "$work/wrk.txt"
}
wrk_rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$work/wrk.txt")

# lastcall's attempts per second of load, and the latency of each attempt
# (invoke to completion in history.jsonl), in milliseconds.
lc_rps=$(jq '.counts.attempts / .timings.load' "$report/result.json")
awk '/"f":"pay"/ {
  match($0, /"key":"[^"]*"/); key = substr($0, RSTART, RLENGTH)
  match($0, /"attempt":[0-9]+/); key = key substr($0, RSTART, RLENGTH)
  match($0, /"time":[0-9]+/); t = substr($0, RSTART + 7, RLENGTH - 7)
  if ($0 ~ /"type":"invoke"/) start[key] = t; else print (t - start[key]) / 1e6
}' "$report/history.jsonl" | sort -n >"$work/latencies.txt"
lc_percentile() {
  awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print v[i] }' \
    "$work/latencies.txt"
}

printf '%-10s %12s %10s %10s\n' tool requests/s p50_ms p99_ms
printf '%-10s %12.0f %10.3f %10.3f\n' wrk "$wrk_rps" "$(wrk_percentile 50)" "$(wrk_percentile 99)"
printf '%-10s %12.0f %10.3f %10.3f\n' lastcall "$lc_rps" "$(lc_percentile 50)" "$(lc_percentile 99)"
ratio=$(awk -v a="$lc_rps" -v b="$wrk_rps" 'BEGIN { printf "%.0f", 100 * a / b }')
echo "lastcall/wrk requests/s: $ratio % (target >= 70 %); $(basename "$server") /healthz," \
     "$clients connections, ${duration}s each, wrk with $wrk_threads threads, lastcall with $clients;" \
     "$(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
((ratio >= 70))

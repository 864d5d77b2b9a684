#!/usr/bin/env bash
# Soak: runs the bundled suite N times in a row in ONE lastcall process
# (`lastcall run --repeat N`), then proves that nothing accumulated:
#   scripts/soak.sh [N]          (default 100; at most 8 minutes a round)
# It compares, before and after: processes carrying a LASTCALL_RUN_ID, the
# PostgreSQL servers and sessions, shared memory segments, lastcall work
# folders, and the disk use of the cache folder and of lastcall's $TMPDIR (a
# private one, so that other users of /tmp do not count); and, sampled
# every 0.2 s during the run, lastcall's open file descriptors, threads and
# the embedded server's processes (one per session), first fifth against last
# fifth of the run. Exits 1 when something grew, with the figures.
# LASTCALL=path/to/lastcall picks the binary (default build/harness/lastcall).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-100}
lastcall=${LASTCALL:-build/harness/lastcall}
if [[ $(id -u) -eq 0 ]]; then cache=/var/cache/lastcall
else cache=${LASTCALL_CACHE:-$HOME/.cache/lastcall}; fi
out=$(mktemp -d "${TMPDIR:-/tmp}/soak-XXXXXX")  # reports, samples, lastcall's TMPDIR
trap 'rm -rf "$out"' EXIT
tmp=$out/tmp
mkdir "$tmp"
chmod 711 "$out" "$tmp"  # the embedded server's user must reach its folder

# Only what this soak's lastcall made counts, so that other users of the
# machine do not: its targets carry TMPDIR=$tmp/..., its PostgreSQL runs in
# $tmp, and its work folders are there.
marked_processes() {  # processes with the run marker and our TMPDIR
  grep -lsa "TMPDIR=$tmp/" /proc/[0-9]*/environ 2>/dev/null |
    xargs -r grep -lsa LASTCALL_RUN_ID= 2>/dev/null | wc -l
}
postgres_processes() {  # PostgreSQL processes working in $tmp
  local n=0 pid
  for pid in $(pgrep -x postgres); do
    [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$tmp"/* ]] && n=$((n + 1))
  done
  echo "$n"
}
# Shared memory nobody is attached to (left by a killed server), and
# PostgreSQL's segments in /dev/shm.
shm_segments() {
  echo $(( $(find /dev/shm -maxdepth 1 -name 'PostgreSQL.*' | wc -l) +
           $(ipcs -m | awk '$1 ~ /^0x/ && $6 == 0' | wc -l) ))
}
work_dirs() { find "$tmp" -mindepth 1 -maxdepth 1 | wc -l; }
kib() { du -sk "$1" 2>/dev/null | cut -f1; }
snapshot() {  # one line of the figures that must not grow
  echo "marked=$(marked_processes) postgres=$(postgres_processes) shm=$(shm_segments)" \
       "work_dirs=$(work_dirs) cache_kib=$(kib "$cache") tmp_kib=$(kib "$tmp")"
}

before=$(snapshot)
start=$(date +%s)
TMPDIR=$tmp timeout --signal=INT $((rounds * 480)) \
  "$lastcall" run scenarios --repeat "$rounds" --reports "$out/reports" >"$out/console.txt" 2>&1 &
runner=$!
# `timeout` forks lastcall: wait (at most 5 s) until it has.
for _ in $(seq 100); do pid=$(pgrep -P "$runner" -x lastcall) && break; sleep 0.05; done
[[ -n ${pid:-} ]] || { echo "soak: lastcall did not start"; cat "$out/console.txt"; exit 1; }
# Sample until lastcall exits: fds, threads, the embedded server's processes.
while [[ -d /proc/$pid ]]; do
  fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l) || break
  threads=$(ls "/proc/$pid/task" 2>/dev/null | wc -l) || break
  server=$(pgrep -P "$pid" -x postgres || true)
  backends=0; [[ -n $server ]] && backends=$(pgrep -c -P "$server" || true)
  echo "$fds $threads $backends" >>"$out/samples"
  sleep 0.2
done
status=0; wait "$runner" || status=$?
seconds=$(( $(date +%s) - start ))
after=$(snapshot)
if [[ ! -s $out/samples ]]; then  # it ended before the first sample
  cat "$out/console.txt"
  echo "soak: lastcall exited $status at once"
  exit 1
fi

# The first or the last fifth of the samples.
part() {
  local k=$(( $(wc -l <"$out/samples") / 5 + 1 ))
  if [[ $1 == first ]]; then head -n "$k" "$out/samples"; else tail -n "$k" "$out/samples"; fi
}
# "MIN MAX" of column $2 in part $1.
range() { part "$1" | awk -v c="$2" 'NR==1{a=b=$c} {if($c<a)a=$c; if($c>b)b=$c} END{print a, b}'; }
window() { echo "first fifth $(range first "$1" | tr ' ' -), last fifth $(range last "$1" | tr ' ' -)"; }
max_of() { range "$1" "$2" | cut -d' ' -f2; }

grep -A3 '^FAIL' "$out/console.txt" | head -n 40 || true
tail -n 3 "$out/console.txt"
echo "soak: $rounds rounds in ${seconds}s, lastcall exit $status, $(wc -l <"$out/samples") samples"
echo "  before: $before"
echo "  after:  $after"
echo "  lastcall fds:      $(window 1)"
echo "  lastcall threads:  $(window 2)"
echo "  server processes:  $(window 3)"

# Verdict: nothing left behind, nothing growing. Disk may move by 1 MiB
# (the cache's own bookkeeping, other users of $TMPDIR); fds by a few (a
# sample may catch a run opening its files).
grown=0
field() { sed -E "s/.*$1=([0-9-]+).*/\1/" <<<"$2"; }
for name in marked postgres shm work_dirs; do  # shm: other users may leak too
  (( $(field $name "$after") <= $(field $name "$before") )) || { echo "GREW: $name"; grown=1; }
done
for name in cache_kib tmp_kib; do
  (( $(field $name "$after") <= $(field $name "$before") + 1024 )) || { echo "GREW: $name"; grown=1; }
done
(( $(max_of last 1) <= $(max_of first 1) + 4 )) || { echo "GREW: lastcall fds"; grown=1; }
(( $(max_of last 2) <= $(max_of first 2) )) || { echo "GREW: lastcall threads"; grown=1; }
if (( status != 0 )); then echo "lastcall exited $status"; exit 1; fi
exit "$grown"

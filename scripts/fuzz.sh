#!/usr/bin/env bash
# Builds the libFuzzer harnesses (harness/fuzz/) with clang, ASan and UBSan
# into build-fuzz/ and runs each for a bounded time:
#   scripts/fuzz.sh [SECONDS]           build, then run (default 30 s per fuzzer,
#                                       the fuzzers side by side)
#   scripts/fuzz.sh --build             build only (run_scenarios.sh --test builds
#                                       them while the scenarios run)
#   scripts/fuzz.sh --run [SECONDS]     run what --build built
# The seed corpus is every bundled scenario plus harness/fuzz/corpus/ (hostile
# files there: names that leave the reports folder, control characters, deep
# nesting, durations past the maximum); what
# libFuzzer finds on top stays in build-fuzz/corpus/ for the next run. Exits 1
# on any crash, hang (an input slower than 10 s), memory blow-up or sanitizer
# report, with the reproducer in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=(build run)
case ${1:-} in
  --build) steps=(build); shift ;;
  --run) steps=(run); shift ;;
esac
seconds=${1:-30}
build=build-fuzz

if [[ ${steps[0]} == build ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLASTCALL_FUZZ=ON \
        -DCMAKE_CXX_COMPILER=clang++ >/dev/null
  cmake --build "$build" -j"$(nproc)" --target scenario_fuzzer substitution_fuzzer
fi
[[ ${steps[-1]} == run ]] || exit 0

mkdir -p "$build/corpus/scenario" "$build/corpus/substitution" "$build/artifacts"
find scenarios -name '*.yaml' -exec cp {} "$build/corpus/scenario/" \;
cp harness/fuzz/corpus/scenario/* "$build/corpus/scenario/"
cp harness/fuzz/corpus/substitution/* "$build/corpus/substitution/"

# UBSan reports are errors, not warnings.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run() {  # run FUZZER [libFuzzer flags...]
  local fuzzer=$1; shift
  echo "fuzzing ${fuzzer%_fuzzer} for ${seconds}s"
  "$build/harness/fuzz/$fuzzer" "$build/corpus/${fuzzer%_fuzzer}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$fuzzer-" "$@" \
    2>"$build/$fuzzer.log" || { tail -n 60 "$build/$fuzzer.log" >&2; return 1; }
  grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' \
    "$build/$fuzzer.log" || true
}
# Side by side: each fuzzer runs on one core, so on two cores both get their
# full time in half the wall-clock time. Both finish before a failure counts.
fuzzers=()
trap 'kill "${fuzzers[@]}" 2>/dev/null || true' EXIT  # none outlives the script
run scenario_fuzzer -dict=harness/fuzz/scenario.dict & scenario=$!
run substitution_fuzzer & substitution=$!
fuzzers=("$scenario" "$substitution")
status=0
wait "$scenario" || status=1
wait "$substitution" || status=1
exit "$status"

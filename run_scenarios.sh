#!/usr/bin/env bash
# Set-up and the main job on a fresh Debian 12 machine with nothing but this repository:
#   ./run_scenarios.sh          install what is missing, build, run every bundled scenario
#   ./run_scenarios.sh --test   install what is missing, build, run the benchmarks once and
#                               the command-line tests, then in a build with sanitizers
#                               the unit tests and every bundled scenario, then fuzz
# Other arguments are passed to `lastcall run` (e.g. --only NAME, --reports DIR).
# Exit codes are lastcall's (0 met, 1 not met, 2 bad input, 3 infrastructure);
# 3 also when packages are missing and we are not root to install them.
set -euo pipefail
cd "$(dirname "$0")"

packages=(
  cmake g++ make pkg-config
  libboost-dev libboost-filesystem-dev libboost-system-dev
  libcpp-httplib-dev libpqxx-dev libyaml-cpp-dev nlohmann-json3-dev
  libcli11-dev catch2 libbenchmark-dev
  postgresql-15
  redis-server libhiredis-dev  # background jobs: the embedded Redis, the workers' client
  clang libclang-rt-14-dev clang-format
  wrk jq
  chromium  # cli_test renders the HTML report in it (headless)
  haproxy  # the load balancer in front of target.instances (deploys)
  python3-psycopg2  # targets/examples/python-payments
  python3-yaml python3-jsonschema  # scripts/validate-schema.py (ctest schema:*)
  # targets/conformance/ (scenarios/conformance/): real stacks' services
  golang-go golang-github-lib-pq-dev  # go: net/http + lib/pq, built offline in GOPATH mode
  nodejs  # node: http + pg (pg itself comes from npm at build time, locked)
  gunicorn  # gunicorn: sync workers with a WSGI app (python3-psycopg2 above)
  python3-uvicorn python3-asyncpg  # uvicorn: an ASGI app with an asyncpg pool
  python3-aiohttp  # aiohttp: web.run_app with an asyncpg pool
  openjdk-17-jdk-headless libpostgresql-jdbc-java  # java: HttpServer + JDBC (javac, jar)
)
# npm, for targets/conformance/node, unless a Node that bundles it is there
# (NodeSource's nodejs provides npm and conflicts with Debian's package).
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing Debian packages; install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 3
  fi
  # lastcall runs its own PostgreSQL; Debian's default "main" cluster (and
  # its service) would only be in the way.
  if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
  fi
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

if [[ ${1:-} == --test ]]; then
  # A build in the background, at the lowest CPU priority, while tests that
  # mostly wait (on targets, signals, grace periods) run in the foreground;
  # it is stopped, with its compilers, on every way out of this script.
  background=()
  trap 'for pid in "${background[@]}"; do kill -- "-$pid" 2>/dev/null || true; done' EXIT
  start_background() {  # start_background LOG COMMAND...: its pid in $!
    local log=$1; shift
    setsid nice -n 19 "$@" >"$log" 2>&1 &
    background+=("$!")
  }
  finish_background() {  # finish_background PID LOG WHAT
    wait "$1" || { tail -n 80 "$2" >&2; echo "$3 failed (log: $2)" >&2; exit 1; }
  }

  # The normal build: lastcall, the targets, the command-line tests and the
  # benchmarks (so they cannot rot). The unit tests are built and run once,
  # in the sanitized build below: compiling them twice was a quarter of CI.
  cmake --build build -j"$jobs" --target lastcall payment-server signal-recorder \
    conformance-targets cli_test explore_cli_test benchmarks
  # The same harness with AddressSanitizer and UndefinedBehaviorSanitizer
  # (build-sanitize/): its lastcall compiles while the command-line tests run,
  # its unit tests and the libFuzzer harnesses (scripts/fuzz.sh) while the
  # bundled scenarios run with that lastcall.
  cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DLASTCALL_SANITIZE=ON >/dev/null
  start_background build/sanitize-build.log cmake --build build-sanitize -j"$jobs" --target lastcall
  sanitize_build=$!
  # Benchmarks once each, the docs (bug table, links), the format, the layers,
  # the locking annotations, the JSON Schema; then the command-line tests two
  # at a time (their verdicts do not depend on the machine's speed), and
  # explore's alone: it searches for a fault timing a few milliseconds wide
  # against a loaded target.
  (cd build && ctest --output-on-failure -j"$jobs" -R '^(bench|docs|format|layers|schema|thread-safety):' &&
               ctest --output-on-failure -j"$jobs" -R '^cli_test:' &&
               ctest --output-on-failure -R '^explore_cli_test:')
  finish_background "$sanitize_build" build/sanitize-build.log "the sanitized build of lastcall"

  # Every step from here runs even when one before it failed; the first
  # failure's status is the one returned.
  status=0
  record() { local rc=$?; ((status)) || status=$rc; }
  export LSAN_OPTIONS=suppressions=$PWD/harness/lsan.supp
  unit_tests=(base_test scenario_test history_test process_test client_test check_test report_test
              run_test explore_test)
  start_background build/tests-build.log bash -c 'cmake --build build-sanitize -j"$1" --target "${@:2}" &&
                                                  scripts/fuzz.sh --build' - "$jobs" "${unit_tests[@]}"
  tests_build=$!
  # The bundled scenarios, once (not also with the normal build: CI's time),
  # two at a time, driving the target of the normal build: their verdicts
  # do not depend on the machine's speed (docs/stability.md: every scenario
  # met its expectation 20 times in 20 with two running at once, quiet and
  # with stress-ng on both cores).
  (cd build-sanitize && ctest --output-on-failure -j"$jobs" -R '^scenario:') || record
  finish_background "$tests_build" build/tests-build.log "the sanitized unit tests' or the fuzzers' build"
  (cd build-sanitize && ctest --output-on-failure -j"$jobs" \
     -R "^($(IFS='|'; echo "${unit_tests[*]}")):") || record
  # The parser and the substitution engine under libFuzzer, 30 s each.
  scripts/fuzz.sh --run || record
  exit "$status"
fi
cmake --build build -j"$jobs"
# The suite's runs two at a time on two cores (each has its own port, database
# and TMPDIR): 47 s against 88 s one at a time, 39 of 39 met both ways.
run_jobs=(--jobs "$jobs")
for arg in "$@"; do [[ $arg == --jobs || $arg == --jobs=* ]] && run_jobs=(); done
exec build/harness/lastcall run "${run_jobs[@]}" scenarios "$@"

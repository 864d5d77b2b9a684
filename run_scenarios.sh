#!/usr/bin/env bash
# Set-up and the main job on a fresh Debian 12 machine (SPEC §9):
#   ./run_scenarios.sh          install what is missing, build, run every bundled scenario
#   ./run_scenarios.sh --test   install what is missing, build, run the unit and command-line
#                               tests, then in a build with sanitizers the unit tests
#                               again and every bundled scenario, then fuzz
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
  clang libclang-rt-14-dev
  wrk jq
  chromium  # cli_test renders the HTML report in it (headless)
  haproxy  # the load balancer in front of target.instances (deploys)
  python3-psycopg2  # targets/examples/python-payments
  python3-yaml python3-jsonschema  # scripts/validate-schema.py (ctest schema:*)
)

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
cmake --build build -j"$jobs"

if [[ ${1:-} == --test ]]; then
  # Unit tests in parallel; the command-line ones one at a time, since each
  # times signals against a loaded target.
  (cd build && ctest --output-on-failure -j"$jobs" -E '^(cli_test|explore_cli_test|scenario):' &&
               ctest --output-on-failure -R '^(cli_test|explore_cli_test):')
  # The unit tests again, and the bundled scenarios (once, here, not also in
  # the normal build: CI's time), with AddressSanitizer and
  # UndefinedBehaviorSanitizer in the harness; the scenarios drive the target
  # of the normal build, one at a time.
  cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DLASTCALL_SANITIZE=ON >/dev/null
  cmake --build build-sanitize -j"$jobs" --target scenario_test process_test core_test lastcall
  # Not the 100,000-attempt report size test: the normal build runs it, and
  # at -O0 under ASan it alone took 4 of CI's 18 minutes.
  status=0
  (cd build-sanitize &&
   export LSAN_OPTIONS=suppressions=$PWD/../harness/lsan.supp &&
   ctest --output-on-failure -j"$jobs" -R '^(scenario_test|process_test|core_test):' \
     -E '^core_test:index.html of 100' &&
   ctest --output-on-failure -R '^scenario:') || status=$?
  # The scenario parser and the substitution engine under libFuzzer, 30 s each
  # (build-fuzz/); it runs even when the ctest above failed, and the first
  # failure's status is the one returned.
  scripts/fuzz.sh || { rc=$?; ((status)) || status=$rc; }
  exit "$status"
fi
# The suite's runs two at a time on two cores (each has its own port, database
# and TMPDIR): 47 s against 88 s one at a time, 39 of 39 met both ways.
run_jobs=(--jobs "$jobs")
for arg in "$@"; do [[ $arg == --jobs || $arg == --jobs=* ]] && run_jobs=(); done
exec build/harness/lastcall run "${run_jobs[@]}" scenarios "$@"

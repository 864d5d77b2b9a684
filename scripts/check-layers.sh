#!/usr/bin/env bash
# Checks that the harness's layers depend one way only: every
# `#include "folder/file.h"` under harness/ names the file's own folder or a
# layer below it. A history and checks that drive nothing of a run stay so.
#   scripts/check-layers.sh     exit 1, listing each include that goes the
#                               wrong way (file:line), if any does
set -euo pipefail
cd "$(dirname "$0")/.."

# The layers each layer builds on directly (docs/design.md draws the map);
# what those build on may be included too.
declare -A below=(
  [base]=""
  [scenario]="base"
  [history]="base"
  [process]="base scenario history"
  [client]="process history scenario base"
  [check]="history scenario base"
  [report]="check history scenario base"
  [run]="report check client process history scenario base"
  [explore]="run report"
)

# What may include anything: the end-to-end tests, the benchmarks, the
# fuzzers and the command line itself.
unchecked_folders="e2e bench fuzz"
unchecked_files="harness/lastcall.cc"

# Unit tests (*_test.cc) may also include these, for integration tests that
# drive the real client against crafted listeners under a socket watch.
test_extras="process/crafted_listener.h client/http_client.h"

# Every layer below layer $1: its direct ones, theirs, and so on down.
declare -A reach=()
reachable() {
  local found="" next
  local -a pending more
  read -ra pending <<< "${below[$1]}"
  while ((${#pending[@]})); do
    next=${pending[0]}
    pending=("${pending[@]:1}")
    [[ " $found " == *" $next "* ]] && continue
    found+=" $next"
    read -ra more <<< "${below[$next]}"
    pending+=("${more[@]}")
  done
  echo "${found# }"
}
for layer in "${!below[@]}"; do
  reach[$layer]=$(reachable "$layer")
done

wrong=0
while IFS= read -r file; do
  folder=${file#harness/}
  folder=${folder%%/*}
  [[ " $unchecked_folders " == *" $folder "* || " $unchecked_files " == *" $file "* ]] && continue
  if [[ -z ${below[$folder]+set} ]]; then
    echo "$file: harness/$folder/ is not a layer this script knows: add it to \`below\`"
    wrong=$((wrong + 1))
    continue
  fi
  while IFS=: read -r line header; do
    included=${header%%/*}
    [[ $included == "$folder" || " ${reach[$folder]} " == *" $included "* ]] && continue
    [[ $file == *_test.cc && " $test_extras " == *" $header "* ]] && continue
    echo "$file:$line: $folder/ may not include $header" \
         "($folder/ may include: ${reach[$folder]:-nothing of another layer})"
    wrong=$((wrong + 1))
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"/]+/' "$file" |
           sed -E 's|^([0-9]+):[^"]*"([^"]+)".*|\1:\2|')
done < <(find harness -name '*.h' -o -name '*.cc' | sort)

if ((wrong)); then
  echo "$wrong include(s) against the layers' one-way graph"
  exit 1
fi

#!/usr/bin/env bash
# Compiles, with clang's -Wthread-safety as an error, every harness source that
# marks its locking with base/mutex.h (GUARDED_BY and friends): GCC, the
# project's compiler, ignores those annotations. Syntax only: nothing is built.
#   scripts/check-thread-safety.sh    exit 1 with clang's message on a violation
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang++ >/dev/null || { echo "clang++ is missing (Debian package clang)" >&2; exit 1; }
mapfile -t headers < <(grep -rl --include='*.h' '"base/mutex.h"' harness | sed 's|^harness/||')
mapfile -t sources < <(for h in "${headers[@]}"; do
  c=harness/${h%.h}.cc; [[ -e $c ]] && echo "$c"; done)
status=0
for source in "${sources[@]}"; do
  clang++ -std=c++20 -fsyntax-only -Iharness -Wthread-safety -Werror=thread-safety "$source" ||
    status=1
done
((status)) || echo "thread-safety: ${#sources[@]} sources checked: ${sources[*]}"
exit "$status"

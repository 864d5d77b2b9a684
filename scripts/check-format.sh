#!/usr/bin/env bash
# Fails, naming the files, when a C++ file of the harness or the reference
# targets is not as .clang-format writes it. Fix with:
#   git ls-files 'harness/*.cc' 'harness/*.h' 'targets/*.cc' 'targets/*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "clang-format is missing (Debian package clang-format)" >&2; exit 1; }
mapfile -t files < <(git ls-files 'harness/*.cc' 'harness/*.h' 'targets/*.cc' 'targets/*.h' 2>/dev/null ||
                     find harness targets -name '*.cc' -o -name '*.h')
unformatted=()
for file in "${files[@]}"; do
  clang-format --dry-run -Werror --style=file "$file" >/dev/null 2>&1 || unformatted+=("$file")
done
if ((${#unformatted[@]})); then
  printf 'not formatted as .clang-format says: %s\n' "${unformatted[@]}" >&2
  exit 1
fi
echo "format: ${#files[@]} files as .clang-format writes them"

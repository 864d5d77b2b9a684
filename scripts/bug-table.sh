#!/usr/bin/env bash
# Prints the bug catalogue table of docs/bugs.md, generated from
# scenarios/bugs/*.yaml: the bug (the target's --bug NAME), the scenario, the
# checks it must trip (its expect: {fail: [...]}) and the incident it stands
# for (description). Its links are relative to docs/, where the table lives.
#   scripts/bug-table.sh            print the table
#   scripts/bug-table.sh --check    exit 1 if docs/bugs.md's copy (between the
#                                   bug-table markers) differs from it
set -euo pipefail
cd "$(dirname "$0")/.."

table() {
  echo "| bug | scenario | checks that must fire | the incident |"
  echo "|---|---|---|---|"
  for file in scenarios/bugs/*.yaml; do
    bug=$(sed -n 's/.*--bug, \([a-z-]*\)\].*/\1/p' "$file")
    checks=$(sed -n 's/^expect: {fail: \[\(.*\)\]}/\1/p' "$file" | sed 's/, /`, `/g')
    description=$(sed -n 's/^description: //p' "$file")
    echo "| \`$bug\` | [\`$file\`](../$file) | \`$checks\` | $description |"
  done
}

if [[ ${1:-} == --check ]]; then
  copy=$(sed -n '/<!-- bug-table:begin -->/,/<!-- bug-table:end -->/p' docs/bugs.md | sed '1d;$d')
  if [[ $copy != "$(table)" ]]; then
    echo "docs/bugs.md's bug table is out of date; regenerate it with scripts/bug-table.sh" >&2
    diff <(echo "$copy") <(table) >&2 || true
    exit 1
  fi
  exit 0
fi
table

#!/usr/bin/env bash
# Checks that every relative link in README.md, docs/*.md and targets/**/README.md
# points at a file or folder that exists, and that every #anchor into a Markdown
# file names one of its headings (GitHub's rule: lower case, punctuation dropped,
# spaces as dashes). Links to other sites are not followed.
#   scripts/check-doc-links.sh     exit 1, listing each broken link, if any is
set -euo pipefail
cd "$(dirname "$0")/.."

# The anchors GitHub makes of a Markdown file's headings, one a line.
anchors() {
  grep -E '^#{1,6} ' "$1" | sed -E 's/^#+ +//' | tr 'A-Z' 'a-z' |
    sed -E 's/[^a-z0-9 _-]//g; s/ /-/g'
}

broken=0
while IFS= read -r file; do
  # Inline links [text](target), outside code spans; images too.
  while IFS= read -r target; do
    case $target in
      http://* | https://* | mailto:*) continue ;;
    esac
    path=${target%%#*}
    anchor=${target#"$path"}
    anchor=${anchor#\#}
    if [[ -z $path ]]; then
      resolved=$file
    else
      resolved=$(dirname "$file")/$path
    fi
    if [[ ! -e $resolved ]]; then
      echo "$file: broken link ($target): no $resolved" >&2
      broken=1
    elif [[ -n $anchor && $resolved == *.md ]] && ! anchors "$resolved" | grep -qxF "$anchor"; then
      echo "$file: broken link ($target): no heading #$anchor in $resolved" >&2
      broken=1
    fi
  done < <(sed -E 's/`[^`]*`//g' "$file" | grep -oE '\]\([^) ]+\)' | sed -E 's/^\]\((.*)\)$/\1/')
done < <(ls README.md docs/*.md; find targets -name README.md | sort)
if [[ $broken == 0 ]]; then
  echo "every link in README.md, docs/ and targets/ resolves"
fi
exit "$broken"

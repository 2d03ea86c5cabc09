#!/usr/bin/env bash
# The man pages render without a single warning, as lintian and a reader's man would render
# them, and the config examples in vfhook.toml(5) are configs vfctl loads.
# Usage: check_man_pages.sh VFCTL TOML_PAGE_SOURCE [PAGE...]  (exit 77: skipped)
set -euo pipefail
vfctl=$1 toml_source=$2
shift 2
skip() { echo "SKIPPED: $*"; exit 77; }
[ $# -gt 0 ] || skip "the man pages were not built (scdoc not found when cmake configured)"
command -v man >/dev/null || skip "man is not installed (apt-get install man-db)"
command -v groff >/dev/null || skip "groff is not installed (apt-get install groff-base)"

failed=0
for page in "$@"; do
  # groff: -ww every warning; -z no output. man: its own preprocessors and the terminal
  # device (lintian runs the same command for manpage-has-errors-from-man).
  out=$(groff -man -ww -z "$page" 2>&1) || true
  out+=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null) || true
  if [ -n "$out" ]; then
    echo "FAIL: $(basename "$page") renders with warnings:"
    echo "$out"
    failed=1
  else
    echo "ok: $(basename "$page")"
  fi
done

# Every ``` block of vfhook.toml(5) that is a config (has a [[pool]]) loads.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk -v dir="$work" '
  /^```/ { if (inside) { close(file); inside = 0 } else { inside = 1; n++; file = dir "/example" n ".toml" } next }
  inside { print > file }' "$toml_source"
examples=0
for example in "$work"/example*.toml; do
  [ -e "$example" ] || continue
  grep -q '^\[\[pool\]\]' "$example" || continue
  examples=$((examples + 1))
  # Keep the state directory inside the test's own directory.
  sed -i "s|^state_dir = .*|state_dir = \"$work/state\"|" "$example"
  if names=$("$vfctl" --config "$example" pools 2>&1); then
    echo "ok: vfhook.toml(5) example $examples loads: pools $(echo $names)"
  else
    echo "FAIL: vfhook.toml(5) example $examples does not load: $names"
    failed=1
  fi
done
if [ $examples -lt 2 ]; then
  echo "FAIL: found $examples config examples in $toml_source, expected at least 2"
  failed=1
fi
exit $failed

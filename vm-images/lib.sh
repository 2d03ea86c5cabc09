# Shared helpers of the lab scripts (sourced, not run). Knows nothing of vfhook itself.
# shellcheck shell=bash

lab_images_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The image cache outlives any one checkout (CI clones afresh every run): /var/cache/vfhook-lab
# for root, else beside the scripts. LAB_CACHE_DIR overrides.
if [ -n "${LAB_CACHE_DIR:-}" ]; then
  lab_cache_dir=$LAB_CACHE_DIR
elif [ "$(id -u)" -eq 0 ]; then
  lab_cache_dir=/var/cache/vfhook-lab
else
  lab_cache_dir=$lab_images_dir/cache
fi

# Progress on stderr, prefixed with the tool's name and the seconds since it started, so a
# slow step is visible in the log without a profiler.
lab_t0=${lab_t0:-$SECONDS}
progress() { printf '%s [%4ds] %s\n' "${lab_tool:-lab}" $((SECONDS - lab_t0)) "$*" >&2; }
die() { printf '%s: error: %s\n' "${lab_tool:-lab}" "$*" >&2; exit 1; }

# 77 is ctest's SKIP_RETURN_CODE for the lab tests: "cannot run here", not "failed".
skip() { printf 'SKIPPED: %s\n' "$*"; exit 77; }

# A cache key over everything that decides an image's content: the given files' names and
# bytes, plus any extra words (e.g. the key of an image this one is built from).
# Usage: cache_key FILE... [-- WORD...]
cache_key() {
  local f words=()
  {
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
      f=$1; shift
      printf 'file %s\n' "$(basename "$f")"
      cat "$f"
    done
    [ "${1:-}" = "--" ] && shift
    words=("$@")
    printf 'word %s\n' "${words[@]}"
  } | sha256sum | cut -c1-16
}

# The installed QEMU's major version, or 0.
qemu_major() {
  local v
  v=$(qemu-system-x86_64 --version 2>/dev/null | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -1 || true)
  echo "${v:-0}"
}

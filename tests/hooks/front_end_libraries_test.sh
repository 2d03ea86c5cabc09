#!/usr/bin/env bash
# The hook's front end runs for every event of every domain: it must need libc alone (libstdc++
# is linked statically), so a domain without VF ports never loads libsystemd, libxml2 or
# anything the core needs. usage: front_end_libraries_test.sh VFHOOK
set -euo pipefail
needed=$(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort)
unexpected=$(grep -vxE 'libc\.so\.6|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1' <<<"$needed" || true)
if [ -n "$unexpected" ]; then
  echo "the front end $1 needs more than libc:" >&2
  echo "$unexpected" >&2
  exit 1
fi
echo "front end needs: $(tr '\n' ' ' <<<"$needed")"

#!/bin/sh
# ctest lab_timing_scripts: tests/lab/lib/libvirtd-timing and timing-table on libvirtd debug
# log excerpts captured in the lab (scenarios 17 and 18, libvirt 9.0: a pre-bound and a
# managed='yes' cycle; eight concurrent prepare hooks), against the spans read from them by
# hand. Runs without the lab.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=$here/data
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
check() { # NAME EXPECTED ACTUAL
  if ! diff -u "$2" "$3"; then echo "FAIL: $1 differs from $2" >&2; status=1; else echo "ok: $1"; fi
}
"$here/lib/libvirtd-timing" "$data/libvirtd-timing.log" >"$out/records"
check "records" "$data/libvirtd-timing.records" "$out/records"
"$here/lib/libvirtd-timing" --summary "$data/libvirtd-timing.log" >"$out/summary"
check "summary" "$data/libvirtd-timing.summary" "$out/summary"
# Eight prepare hooks at once (scenario 18's storm): each paired within its own thread.
"$here/lib/libvirtd-timing" "$data/libvirtd-storm.log" >"$out/storm"
check "concurrent hooks" "$data/libvirtd-storm.records" "$out/storm"
# Written in libvirt 9.0's format, not captured: a refusal (exit status 1, a multi-line
# stderr) across midnight, while another domain's hook runs.
"$here/lib/libvirtd-timing" "$data/libvirtd-refusal.log" >"$out/refusal"
check "refusal" "$data/libvirtd-refusal.records" "$out/refusal"
"$here/lib/timing-table" "$data/timing-table.records" >"$out/table"
check "median table" "$data/timing-table.expected" "$out/table"
# Bad input: no file is an error, not an empty answer.
if "$here/lib/libvirtd-timing" "$out/no-such-file" >/dev/null 2>&1; then
  echo "FAIL: a missing log file was not an error" >&2; status=1
fi
exit $status

#!/bin/bash
# The baseline a vfhook user would otherwise write: a bash hook that asks xmllint whether the
# domain has any hostdev before doing anything.
xml=$(cat)
count=$(printf '%s' "$xml" | xmllint --xpath 'count(//devices/hostdev | //devices/interface[@type="hostdev"])' - 2>/dev/null)
if [ "${count:-0}" = "0" ]; then
  exit 0
fi
exit 0

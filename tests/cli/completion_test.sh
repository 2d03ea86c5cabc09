#!/usr/bin/env bash
# vfctl's bash completion, driven as bash's programmable completion drives it: COMP_WORDS and
# COMP_CWORD set, the function called, COMPREPLY checked. Pool names come from the vfctl
# being completed (`vfctl pools`): the build's, first on PATH.
# Usage: completion_test.sh COMPLETION_FILE VFCTL
set -euo pipefail
. "$1"
PATH="$(cd "$(dirname "$2")" && pwd):$PATH"
[ "$(command -v vfctl)" -ef "$2" ] || { echo "FAIL: $2 is not the vfctl on PATH"; exit 1; }
config=$(mktemp)
errors=$(mktemp)
sockets=$(mktemp -d)
trap 'rm -f "$config" "${broken:-}" "${errors:-}"; rm -rf "$sockets"' EXIT
: >"$sockets/qmp.sock"
printf 'state_dir = "/x"\n[[pool]]\nname = "provider"\npfs = ["enp1s0"]\n[[pool]]\nname = "storage"\npfs = ["enp2s0"]\n' >"$config"
failed=0
expect() { # WANT WORDS...: the completions of the last word
  local want=$1; shift
  COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
  _vfctl 2>"$errors" || true  # bash ignores the status of a completion function
  local got="${COMPREPLY[*]:-}"
  if [ "$got" != "$want" ]; then echo "FAIL: '$*' completed to '$got', not '$want'"; failed=1; fi
  # Anything on stderr would land over the user's command line.
  if [ -s "$errors" ]; then echo "FAIL: '$*' printed: $(cat "$errors")"; failed=1; fi
}
expect "status pools claims doctor port render attach detach migrate vfs gc dhcp-hosts" vfctl ""
expect "pools port" vfctl po
expect "claims" vfctl cl
expect "--count" vfctl claims --c
expect "add remove list" vfctl port ""
expect "apply" vfctl vfs ""
expect "provider storage" vfctl --config "$config" port add web1 --pool ""
expect "provider storage" vfctl --config "$config" attach web1 --pool ""
expect "provider" vfctl --config "$config" status --pool p
# A config vfctl refuses (or none) completes to nothing, and prints nothing over the prompt.
broken=$(mktemp); printf '[[pool]]\nname = "provider"\n' >"$broken"
expect "" vfctl --config "$broken" port add web1 --pool ""
expect "" vfctl --config "$sockets/missing.toml" port add web1 --pool ""
expect "storage" vfctl --config "$config" render web1 --pool s
expect "on off" vfctl port add web1 --trust ""
expect "--vlan" vfctl port add web1 --vl
expect "--lldp-listen" vfctl status --ll
expect "--pool" vfctl status --lldp-listen 30 --po
expect "802.1Q 802.1ad" vfctl render web1 --protocol ""
expect "--persistent" vfctl attach web1 --pers
expect "--qmp" vfctl attach web1 --pool provider --qm
expect "$sockets/qmp.sock" vfctl attach web1 --qmp "$sockets/q"
expect "--persistent" vfctl detach web1 ua-x --pe
expect "--timeout" vfctl detach web1 ua-x --t
expect "--qmp" vfctl detach web1 ua-x --qm
expect "$sockets/qmp.sock" vfctl detach web1 ua-x --qmp "$sockets/"
expect "--cold" vfctl migrate web1 qemu+ssh://b/system --co
expect "--shutdown --shutdown-timeout" vfctl migrate web1 qemu+ssh://b/system --cold --sh
expect "--force-off" vfctl migrate web1 qemu+ssh://b/system --cold --shutdown-timeout 60 --f
expect "dhcp-hosts" vfctl dh
expect "--pool --format --write --help" vfctl dhcp-hosts --
expect "kea kea6" vfctl dhcp-hosts --format k
expect "storage" vfctl --config "$config" dhcp-hosts --pool s
expect "--write" vfctl dhcp-hosts --pool provider --format kea --w
expect "$sockets/qmp.sock" vfctl dhcp-hosts --write "$sockets/q"
[ $failed -eq 0 ] && echo "completion: all cases pass"
exit $failed

#!/usr/bin/env bash
# vfctl's bash completion, driven as bash's programmable completion drives it: COMP_WORDS and
# COMP_CWORD set, the function called, COMPREPLY checked.
set -euo pipefail
. "$1"
config=$(mktemp)
sockets=$(mktemp -d)
trap 'rm -f "$config"; rm -rf "$sockets"' EXIT
: >"$sockets/qmp.sock"
printf 'state_dir = "/x"\n[[pool]]\nname = "provider"\npfs = ["enp1s0"]\n[[pool]]\nname = "storage"\npfs = ["enp2s0"]\n' >"$config"
failed=0
expect() { # WANT WORDS...: the completions of the last word
  local want=$1; shift
  COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
  _vfctl
  local got="${COMPREPLY[*]:-}"
  if [ "$got" != "$want" ]; then echo "FAIL: '$*' completed to '$got', not '$want'"; failed=1; fi
}
expect "status doctor port render attach detach vfs gc" vfctl ""
expect "port" vfctl po
expect "add remove list" vfctl port ""
expect "apply" vfctl vfs ""
expect "provider storage" vfctl --config "$config" port add web1 --pool ""
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
[ $failed -eq 0 ] && echo "completion: all cases pass"
exit $failed

#!/bin/bash
# vfhook scenario 5: what the hook refuses. Each start must fail with vfhook's own message
# (libvirt: "Hook script execution failed … vfhook …" with the reason), the domain must not
# run, and the host must be unchanged (VF table and drivers as before):
#   a) a VLAN outside the pool's ranges (250), b) a VLAN of the host bridges (50),
#   c) trust asked in a pool with allow_trust = false (pool "tenant", on the second igb),
#   d) a VF already held by another running domain.
. "$(dirname "$0")/lib/lab.sh"

pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF"
pf2_addr=$(pf2_pci); [ -n "$pf2_addr" ] || fail "no second igb: run with lab-run --second-pf"
pf2=$(netdev_of "$pf2_addr"); [ -n "$pf2" ] || fail "the second igb has no netdev"
lab_pf_setup "$pf" 7
lab_pf_setup "$pf2" 2
vfhook_install
vfhook_default_config "$pf" "[[pool]]
name = \"tenant\"
pfs = [\"$pf2\"]
vlans = [\"100-199\"]
allow_trust = false
keep_idle_on_vfio = true"
vf1=$(vf_pci "$pf" 1) t0=$(vf_pci "$pf2" 0)

host_state() { vf_state "$pf"; vf_state "$pf2"; }
# expect_refused NAME WHAT REGEX: start fails, by vfhook, with REGEX in the message
expect_refused() {
  local name=$1 what=$2 re=$3 before out
  before=$(host_state)
  if out=$(try_start "$name"); then
    remove_guest "$name"
    fail "$what: 'virsh start $name' succeeded; vfhook should have refused it"
  fi
  info "$what: refused: $(echo "$out" | tr '\n' ' ' | cut -c1-300)"
  echo "$out" | grep -q 'Hook script execution failed' ||
    fail "$what: the start failed, but not in a hook: $out"
  echo "$out" | grep -qi 'vfhook' || fail "$what: the hook's message does not name vfhook: $out"
  echo "$out" | grep -Eqi -- "$re" || fail "$what: the message does not explain /$re/: $out"
  not_running "$name" || fail "$what: $name is running after a refused start"
  [ "$(host_state)" = "$before" ] || {
    diff <(echo "$before") <(host_state) | sed 's/^/         /'
    fail "$what: the refused start changed the host (< before, > after)"
  }
}

step "a) VLAN 250, outside the pool's 100-199"
define_guest bad-vlan "$(l2_xml bad-vlan "$(vf_port 52:54:00:aa:05:01 "$vf1" 250)" \
  "$(ports_metadata "$(port_record 52:54:00:aa:05:01 provider 250)")")"
expect_refused bad-vlan "VLAN outside the range" 'vlan.*250|250.*vlan'
remove_guest bad-vlan

step "b) VLAN 50, reserved for host bridges"
define_guest bridge-vlan "$(l2_xml bridge-vlan "$(vf_port 52:54:00:aa:05:02 "$vf1" 50)" \
  "$(ports_metadata "$(port_record 52:54:00:aa:05:02 provider 50)")")"
expect_refused bridge-vlan "host-bridge VLAN" 'vlan.*50|50.*vlan'
remove_guest bridge-vlan

step "c) trust on in pool 'tenant' (allow_trust = false)"
define_guest trusty "$(l2_xml trusty "$(vf_port 52:54:00:aa:05:03 "$t0" 110)" \
  "$(ports_metadata "$(port_record 52:54:00:aa:05:03 tenant 110 'trust="on"')")")"
expect_refused trusty "trust not allowed" 'trust'
remove_guest trusty

step "d) a VF held by another running domain"
define_guest holder "$(l2_xml holder "$(vf_port 52:54:00:aa:05:04 "$vf1" 110)" \
  "$(ports_metadata "$(port_record 52:54:00:aa:05:04 provider 110)")")"
start_guest holder
expect_nic holder 52:54:00:aa:05:04 120
define_guest thief "$(l2_xml thief "$(vf_port 52:54:00:aa:05:05 "$vf1" 120)" \
  "$(ports_metadata "$(port_record 52:54:00:aa:05:05 provider 120)")")"
expect_refused thief "VF held by another domain" "holder|in use|held|claimed|reserved"
state_is holder running || fail "the holder stopped when another domain tried its VF"
expect_vf "$pf" 1 "link/ether 52:54:00:aa:05:04 .*vlan 110"
remove_guest thief
remove_guest holder
step "PASS"

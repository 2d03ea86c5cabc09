#!/bin/bash
# vfhook scenario 2: stopping a guest restores each VF exactly: the VF table of
# `ip link show PF` and every VF's driver equal what they were before the start; this after a
# guest-initiated power-off (shutdown) and after `virsh destroy`; a second start works.
# Last, with keep_idle_on_vfio = true, released VFs stay on vfio-pci.
. "$(dirname "$0")/lib/lab.sh"

pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF"
lab_pf_setup "$pf" 7
vfhook_install
KEEP_IDLE=false vfhook_default_config "$pf"
vf1=$(vf_pci "$pf" 1) vf2=$(vf_pci "$pf" 2)
mac1=52:54:00:aa:02:01 mac2=52:54:00:aa:02:02
# Admin state that is not the default, so that "restored" means restored, not reset.
ip link set "$pf" vf 1 mac 02:00:00:00:02:01
ip link set "$pf" vf 2 mac 02:00:00:00:02:02 vlan 5
before=$(vf_state "$pf")

meta=$(ports_metadata "$(port_record $mac1 provider 110 'trust="on"')" \
  "$(port_record $mac2 provider 120 'qos="2" spoofchk="off" max-tx-rate="50"')")
devices="$(vf_port $mac1 "$vf1" 110)$(vf_port $mac2 "$vf2" 120)"
same_as_before() { [ "$(vf_state "$pf")" = "$before" ]; }
expect_restored() {
  if ! wait_for_quiet 30 same_as_before; then
    diff <(echo "$before") <(vf_state "$pf") | sed 's/^/         /'
    fail "$1: the VFs are not as they were before the start (diff above: < before, > after)"
  fi
  info "$1: VF table and drivers restored"
}
wait_for_quiet() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.5; done; }

step "round 1: the guest powers itself off (shutdown)"
define_guest restore "$(l2_xml restore "$devices" "$meta" "lab.hold=3")"
start_guest restore
expect_vf "$pf" 1 "trust on"
expect_vf "$pf" 2 "qos 2"
expect_nic restore "$mac1" 120
wait_for 60 "the guest to power off" state_is restore "shut off"
expect_restored "after shutdown"

step "round 2: second start, then virsh destroy"
define_guest restore "$(l2_xml restore "$devices" "$meta" "lab.hold=forever")"
start_guest restore
expect_vf "$pf" 1 "link/ether $mac1 "
expect_vf "$pf" 2 "spoof checking off"
expect_nic restore "$mac2" 120
virsh destroy restore >/dev/null || fail "virsh destroy failed"
expect_restored "after destroy"

step "round 3: keep_idle_on_vfio = true: released VFs stay on vfio-pci"
vfhook_default_config "$pf"
start_guest restore
expect_nic restore "$mac1" 120
virsh destroy restore >/dev/null
wait_for 30 "the guest to stop" not_running restore
for v in "$vf1" "$vf2"; do
  wait_for 20 "$v to stay on vfio-pci" driver_is "$v" vfio-pci
done
[ "$(vf_table "$pf")" = "$(echo "$before" | grep '^vf [0-9]* *link')" ] ||
  fail "after round 3 the VF table differs from before: $(vf_table "$pf" | sed -n 2,3p)"
remove_guest restore
step "PASS"

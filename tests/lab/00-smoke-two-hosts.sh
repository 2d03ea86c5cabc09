#!/bin/bash
# Two-host lab smoke test, libvirt alone (lab-run --hosts 2): host a gives an L2 guest VF 3
# with VLAN 110 (<interface type='hostdev' managed='yes'> + <vlan>); the guest must ping host
# b's address on VLAN 110 of b's PF, through the emulated igb's wire between the two hosts.
. "$(dirname "$0")/lib/lab.sh"

if [ "${LAB_ROLE:-a}" = b ]; then
  serve_vlan_until_a_done 110 10.77.110.2/24
  exit 0
fi
[ "${LAB_HOSTS:-1}" = 2 ] || fail "this scenario needs two hosts (lab-run --hosts 2)"
a_signals_done
pci=$(pf_pci); pf=$(netdev_of "$pci")
[ -n "$pf" ] || fail "no igb PF on host a"
step "host a: PF $pf: 7 VFs"
lab_pf_setup "$pf" 7
vf=$(vf_pci "$pf" 3)
mac=52:54:00:5a:01:03
define_guest ping110 "$(l2_xml ping110 "$(hostdev_iface $mac "$vf" yes "<vlan><tag id='110'/></vlan>")" "" \
  "lab.ip=10.77.110.1/24 lab.ping=10.77.110.2 lab.hold=forever")"
step "host a: waiting for host b's VLAN interface"
wait_flag b-ready 300
step "host a: start the guest (VF 3, VLAN 110, MAC $mac)"
start_guest ping110
expect_vf "$pf" 3 "vlan 110"
expect_nic ping110 "$mac" 120
line=$(wait_serial ping110 '^LAB-PING ' 60)
info "ping110: $line"
echo "$line" | grep -q 'result=ok' || fail "the guest on VLAN 110 cannot reach host b: $line"
remove_guest ping110
step "PASS"

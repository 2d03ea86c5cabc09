#!/bin/bash
# vfhook scenario 8 (lab-run --hosts 2): a guest on host a with a vfhook VF port on VLAN 110
# (managed='no', port record) reaches host b's VLAN 110 interface: ping through the VF, the
# emulated igb wire, and b's PF.
. "$(dirname "$0")/lib/lab.sh"

if [ "${LAB_ROLE:-a}" = b ]; then
  serve_vlan_until_a_done 110 10.77.110.2/24
  exit 0
fi
[ "${LAB_HOSTS:-1}" = 2 ] || fail "this scenario needs two hosts (lab-run --hosts 2)"
a_signals_done
pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF on host a"
lab_pf_setup "$pf" 7
vfhook_install
vfhook_default_config "$pf"
vf=$(vf_pci "$pf" 2) mac=52:54:00:aa:08:02
define_guest pinger "$(l2_xml pinger "$(vf_port $mac "$vf" 110)" \
  "$(ports_metadata "$(port_record $mac provider 110)")" \
  "lab.ip=10.77.110.1/24 lab.ping=10.77.110.2 lab.hold=forever")"
step "host a: waiting for host b's VLAN 110 interface"
wait_flag b-ready 300
step "host a: start 'pinger' (VF 2, VLAN 110, MAC $mac)"
start_guest pinger
expect_vf "$pf" 2 "link/ether $mac .*vlan 110"
expect_nic pinger "$mac" 120
line=$(wait_serial pinger '^LAB-PING ' 60)
info "pinger: $line"
echo "$line" | grep -q 'result=ok' || fail "the guest on VLAN 110 cannot reach host b: $line"
remove_guest pinger
step "PASS"

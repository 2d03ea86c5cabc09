#!/bin/bash
# vfhook scenario 1: a guest with two VF ports (managed='no'). At start the hook has bound
# both VFs to vfio-pci and applied what libvirt cannot: VF 1 trust on; VF 2 QoS 3, spoofchk
# off, max tx rate 100. `ip link show PF` must show it all; the guest sees the admin MACs.
. "$(dirname "$0")/lib/lab.sh"

pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF"
lab_pf_setup "$pf" 7
vfhook_install
vfhook_default_config "$pf"
vf1=$(vf_pci "$pf" 1) vf2=$(vf_pci "$pf" 2)
mac1=52:54:00:aa:00:01 mac2=52:54:00:aa:00:02

meta=$(ports_metadata "$(port_record $mac1 provider 110 'trust="on"')" \
  "$(port_record $mac2 provider 120 'qos="3" spoofchk="off" max-tx-rate="100"')")
define_guest ports "$(l2_xml ports "$(vf_port $mac1 "$vf1" 110)$(vf_port $mac2 "$vf2" 120)" "$meta")"
step "start 'ports': VF 1 ($vf1) VLAN 110 trust on; VF 2 ($vf2) VLAN 120 qos 3 spoofchk off rate 100"
start_guest ports

step "the PF's VF table"
vf_table "$pf" | sed -n '2,3p' | sed 's/^/         /'
expect_vf "$pf" 1 "link/ether $mac1 "
expect_vf "$pf" 1 ", vlan 110[,]"
expect_vf "$pf" 1 "spoof checking on"
expect_vf "$pf" 1 "trust on"
expect_vf "$pf" 2 "link/ether $mac2 "
expect_vf "$pf" 2 ", vlan 120, qos 3[,]"
expect_vf "$pf" 2 "spoof checking off"
expect_vf "$pf" 2 "trust off"
expect_vf "$pf" 2 "max_tx_rate 100Mbps"
for v in "$vf1" "$vf2"; do
  [ "$(driver_of "$v")" = vfio-pci ] || fail "$v is on $(driver_of "$v") while the guest runs"
done
# The VFs nobody asked for stay untouched.
expect_vf "$pf" 0 ", spoof checking on, link-state auto, trust off"

step "the guest sees both admin MACs"
expect_nic ports "$mac1" 120
expect_nic ports "$mac2" 5
remove_guest ports
step "PASS"

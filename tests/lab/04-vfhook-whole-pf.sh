#!/bin/bash
# vfhook scenario 4: whole-PF passthrough. The second igb (lab-run --second-pf) is in a pool
# with mode = "pf"; a guest with a plain <hostdev managed='no'> on it starts (the hook binds
# the PF to vfio-pci at prepare), the guest's igb driver sees the NIC with its MAC; after
# destroy the PF is back on igb with its netdev.
. "$(dirname "$0")/lib/lab.sh"

pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF"
pf2_addr=$(pf2_pci)
[ -n "$pf2_addr" ] || fail "no second igb: run with lab-run --second-pf"
pf2=$(netdev_of "$pf2_addr")
[ -n "$pf2" ] || fail "the second igb ($pf2_addr) has no netdev (driver: $(driver_of "$pf2_addr"))"
mac=$(cat "/sys/class/net/$pf2/address")
[ "$(vf_count "$pf2")" = 0 ] || vfs_create "$pf2" 0
# vfhook refuses to give away a whole NIC whose netdev is up (the host may be using it).
ip link set "$pf2" down
vfhook_install
vfhook_default_config "$pf" "[[pool]]
name = \"wholepf\"
mode = \"pf\"
pfs = [\"$pf2_addr\"]
keep_idle_on_vfio = false"

meta=$(ports_metadata "$(printf '<vfhook:port mac="%s" pool="wholepf"/>' "$mac")")
dev="<hostdev mode='subsystem' type='pci' managed='no'><source>$(pci_xml "$pf2_addr")</source></hostdev>"
define_guest wholepf "$(l2_xml wholepf "$dev" "$meta")"
step "start 'wholepf' with the whole PF $pf2 ($pf2_addr, MAC $mac)"
start_guest wholepf
[ "$(driver_of "$pf2_addr")" = vfio-pci ] || fail "$pf2_addr is on $(driver_of "$pf2_addr") while the guest runs"
expect_nic wholepf "$mac" 120
tr -d '\r' <"$L2_LOGS/wholepf.serial" | grep -a "^LAB-NIC .*mac=$mac .*driver=igb " >/dev/null ||
  fail "the guest's NIC $mac is not driven by igb"

step "destroy: the PF returns to igb"
virsh destroy wholepf >/dev/null
wait_for 30 "$pf2_addr back on igb" driver_is "$pf2_addr" igb
wait_for 20 "the netdev of $pf2_addr" test -d "/sys/bus/pci/devices/$pf2_addr/net"
remove_guest wholepf
step "PASS"

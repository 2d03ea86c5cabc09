#!/bin/bash
# Lab smoke test, libvirt alone (no vfhook): 7 VFs on the igb PF, an L2 KVM guest with
# <interface type='hostdev' managed='yes'> on VF 2 with a chosen MAC; the guest's igbvf must
# report that MAC with link up; libvirt must hand the VF back to igbvf after destroy.
. "$(dirname "$0")/lib/lab.sh"

pci=$(pf_pci); [ -n "$pci" ] || fail "no igb PF in this host (lspci: $(lspci -nn | grep -i ether))"
pf=$(netdev_of "$pci"); [ -n "$pf" ] || fail "igb PF $pci has no netdev"
[ -c /dev/kvm ] || fail "no /dev/kvm in the lab host: L2 cannot run under KVM"
step "PF $pf ($pci): create 7 VFs"
vfs_create "$pf" 7
[ "$(vf_count "$pf")" = 7 ] || fail "sriov_numvfs is $(vf_count "$pf"), wanted 7"
ip link set "$pf" up
vf=$(vf_pci "$pf" 2)
[ "$(driver_of "$vf")" = igbvf ] || fail "VF 2 ($vf) is on $(driver_of "$vf"), expected igbvf"
info "VF 2 is $vf, IOMMU group $(basename "$(readlink "/sys/bus/pci/devices/$vf/iommu_group")")"

mac=52:54:00:5a:00:02
step "define and start L2 guest 'smoke' with VF 2 (managed='yes', MAC $mac)"
define_guest smoke "$(l2_xml smoke "$(hostdev_iface $mac "$vf" yes)")"
t=$SECONDS
start_guest smoke
info "virsh start took $((SECONDS - t)) s"
[ "$(driver_of "$vf")" = vfio-pci ] || fail "VF 2 is on $(driver_of "$vf") while the guest runs"
[ "$(vf_mac "$pf" 2)" = "$mac" ] || fail "VF 2 admin MAC is $(vf_mac "$pf" 2), wanted $mac"

step "wait for the guest's NIC report"
expect_nic smoke "$mac" 120
grep -aq 'driver=igbvf' "$L2_LOGS/smoke.serial" || fail "the guest's NIC is not driven by igbvf"

step "destroy: libvirt must rebind VF 2 to igbvf"
virsh destroy smoke >/dev/null || fail "virsh destroy smoke failed"
wait_for 20 "VF 2 back on igbvf" driver_is "$vf" igbvf
virsh undefine smoke >/dev/null
step "PASS"

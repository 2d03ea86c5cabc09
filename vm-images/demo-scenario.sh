#!/bin/bash
# The demo's part inside the lab host (run by vm-images/demo through lab-run): a guest with
# one VF port, then what a user wants to see: the PF's VF table and the guest's NIC line.
# DEMO_MODE=vfhook (default): vfhook installed, port record, managed='no' (the hook binds).
# DEMO_MODE=libvirt: libvirt alone, managed='yes' with the same MAC and VLAN.
. "$(dirname "$0")/lib/lab.sh"

pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF in the lab host"
mac=52:54:00:de:00:01 vlan=110
step "lab host: PF $pf, 7 VFs"
lab_pf_setup "$pf" 7
vf=$(vf_pci "$pf" 1)
if [ "${DEMO_MODE:-vfhook}" = vfhook ]; then
  step "install vfhook (cmake --install $LAB_BUILD_DIR) and its config"
  vfhook_install
  vfhook_default_config "$pf"
  sed 's/^/         /' "$VFHOOK_CONFIG"
  meta=$(ports_metadata "$(port_record $mac provider $vlan 'trust="on" qos="2"')")
  iface=$(vf_port $mac "$vf" $vlan)
else
  meta="" iface=$(hostdev_iface $mac "$vf" yes "<vlan><tag id='$vlan'/></vlan>")
fi
define_guest demo "$(l2_xml demo "$iface" "$meta")"
step "virsh start demo (VF 1 = $vf, MAC $mac, VLAN $vlan)"
t=$SECONDS
start_guest demo
info "started in $((SECONDS - t)) s; VF 1 is now on $(driver_of "$vf")"
step "the guest's console"
expect_nic demo "$mac" 120
step "ip link show $pf (the host's view of its VFs)"
ip link show "$pf" | sed 's/^/         /'
virsh destroy demo >/dev/null
step "after destroy: VF 1 is on $(driver_of "$vf"): $(vf_line "$pf" 1)"
remove_guest demo

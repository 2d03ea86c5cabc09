#!/bin/bash
# vfhook scenario 3: ports that libvirt binds itself. One <interface type='hostdev'
# managed='yes'> on VF 4, and one <interface type='network'> on a hostdev network
# (<forward mode='hostdev' managed='yes'><pf dev='PF'/>) whose VF libvirt chooses. The hook
# must find both at start and apply the extras of their port records (QoS, spoofchk); the
# guest sees both MACs; after destroy the VF table is as before.
. "$(dirname "$0")/lib/lab.sh"

pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF"
lab_pf_setup "$pf" 7
vfhook_install
vfhook_default_config "$pf"
vf4=$(vf_pci "$pf" 4)
mac1=52:54:00:aa:03:01 mac2=52:54:00:aa:03:02
before=$(vf_table "$pf")

cat >/tmp/lab-vfnet.xml <<XML
<network><name>vfnet</name>
  <forward mode='hostdev' managed='yes'><pf dev='$pf'/></forward>
</network>
XML
virsh net-define /tmp/lab-vfnet.xml >/dev/null || fail "cannot define the hostdev network"
virsh net-start vfnet >/dev/null || fail "cannot start the hostdev network"

meta=$(ports_metadata "$(port_record $mac1 provider 130 'qos="1"')" \
  "$(port_record $mac2 provider 140 'qos="2" spoofchk="off"')")
devices="$(hostdev_iface $mac1 "$vf4" yes "<vlan><tag id='130'/></vlan>")
  <interface type='network'><mac address='$mac2'/><source network='vfnet'/><vlan><tag id='140'/></vlan></interface>"
define_guest mixed "$(l2_xml mixed "$devices" "$meta")"
step "start 'mixed': managed='yes' on VF 4 (VLAN 130 qos 1) + network port (VLAN 140 qos 2 spoofchk off)"
start_guest mixed

expect_vf "$pf" 4 "link/ether $mac1 .*, vlan 130, qos 1[,]"
[ "$(driver_of "$vf4")" = vfio-pci ] || fail "VF 4 is on $(driver_of "$vf4") while the guest runs"
line=$(vf_table "$pf" | grep "link/ether $mac2 ") || fail "no VF carries $mac2: libvirt did not pick one?"
idx=$(echo "$line" | awk '{print $2}')
info "libvirt chose VF $idx for the network port"
[ "$idx" != 4 ] || fail "the network port got VF 4, which the other port holds"
expect_vf "$pf" "$idx" ", vlan 140, qos 2[,]"
expect_vf "$pf" "$idx" "spoof checking off"
[ "$(driver_of "$(vf_pci "$pf" "$idx")")" = vfio-pci ] || fail "VF $idx is not on vfio-pci"

expect_nic mixed "$mac1" 120
expect_nic mixed "$mac2" 5

step "destroy: the VF table returns to what it was"
virsh destroy mixed >/dev/null
# The admin MAC of the VF libvirt chose from the network is libvirt's to restore: libvirt saved
# it before any hook could see which VF it would pick (vfhook restores everything it set
# itself, and the managed='yes' VF's MAC exactly). For that VF, compare all but the MAC, and
# require a usable unicast MAC.
mask_chosen_mac() { sed -E "s/^(vf $idx +link\/ether )[0-9a-f:]{17}/\1<libvirt's>/"; }
table_restored() { [ "$(vf_table "$pf" | mask_chosen_mac)" = "$(echo "$before" | mask_chosen_mac)" ]; }
end=$((SECONDS + 30))
until table_restored; do
  if [ $SECONDS -ge $end ]; then
    diff <(echo "$before") <(vf_table "$pf") | sed 's/^/         /'
    fail "after destroy the VF table differs from before (< before, > after)"
  fi
  sleep 0.5
done
chosen_mac=$(vf_table "$pf" | sed -nE "s/^vf $idx +link\/ether ([0-9a-f:]{17}).*/\1/p")
case "$chosen_mac" in
  00:00:00:00:00:00 | "") fail "VF $idx (the network's) was left with no admin MAC" ;;
  ?[13579bdf]:*) fail "VF $idx (the network's) was left with a multicast MAC $chosen_mac" ;;
esac
info "VF $idx (chosen by libvirt) restored by libvirt to $chosen_mac"
remove_guest mixed
virsh net-destroy vfnet >/dev/null; virsh net-undefine vfnet >/dev/null
step "PASS"

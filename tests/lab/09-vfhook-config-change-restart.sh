#!/bin/bash
# vfhook scenario 9: the config changes while a guest runs (its VLAN falls out of the pool, trust
# is no longer allowed), then libvirtd restarts (the hook's reconnect event). The running guest
# keeps its VF, on vfio-pci and configured as before, and the VF stays claimed: another guest
# asking for it is refused. A destroy then restores the VF exactly as it was before the start.
. "$(dirname "$0")/lib/lab.sh"

pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF"
lab_pf_setup "$pf" 7
vfhook_install
KEEP_IDLE=false vfhook_default_config "$pf"
vf2=$(vf_pci "$pf" 2)
mac=52:54:00:aa:09:02 other_mac=52:54:00:aa:09:12
before=$(vf_state "$pf")
define_guest steady "$(l2_xml steady "$(vf_port $mac "$vf2" 150)" \
  "$(ports_metadata "$(port_record $mac provider 150 'trust="on" qos="3"')")")"
step "start 'steady' (VF 2, VLAN 150 qos 3, trust on)"
start_guest steady
expect_nic steady "$mac" 120
running_table=$(vf_table "$pf")
pid=$(cat /run/libvirt/qemu/steady.pid)

step "narrow the pool to VLANs 100-119 and forbid trust, while 'steady' runs"
vfhook_config "state_dir = \"/var/lib/vfhook\"
host_bridge_vlans = [\"1-99\"]
[[pool]]
name = \"provider\"
pfs = [\"$pf\"]
vlans = [\"100-119\"]
allow_trust = false
allow_spoofchk_off = true
keep_idle_on_vfio = false"

step "systemctl restart libvirtd"
systemctl restart libvirtd || fail "libvirtd did not restart"
wait_for 90 "libvirtd after restart" virsh version
wait_for 30 "steady to be seen running again" state_is steady running
[ "$(cat /run/libvirt/qemu/steady.pid)" = "$pid" ] || fail "the guest's QEMU was replaced across the restart"
driver_is "$vf2" vfio-pci || fail "$vf2 left vfio-pci under the running guest"
[ "$(vf_table "$pf")" = "$running_table" ] || {
  diff <(echo "$running_table") <(vf_table "$pf") | sed 's/^/         /'
  fail "the restart changed the running guest's VF (< before restart, > after)"
}
info "VF 2 is still on vfio-pci with VLAN 150 qos 3 and trust on"

step "another guest asking for the same VF (VLAN 110, allowed now) is refused"
define_guest intruder "$(l2_xml intruder "$(vf_port $other_mac "$vf2" 110)" \
  "$(ports_metadata "$(port_record $other_mac provider 110)")")"
err=$(try_start intruder) && fail "intruder started on a VF that 'steady' holds"
echo "$err" | grep -q "domain 'steady' is using this VF" ||
  fail "intruder was refused for another reason: $err"
info "refused: $(echo "$err" | grep -o "domain 'steady' is using this VF[^.]*")"
remove_guest intruder

step "destroy 'steady': the VF is restored as it was before the start"
virsh destroy steady >/dev/null || fail "virsh destroy failed"
end=$((SECONDS + 30))
until [ "$(vf_state "$pf")" = "$before" ]; do
  if [ $SECONDS -ge $end ]; then
    diff <(echo "$before") <(vf_state "$pf") | sed 's/^/         /'
    fail "destroy after the config change did not restore the VF (< before start, > after)"
  fi
  sleep 0.5
done
remove_guest steady
step "PASS"

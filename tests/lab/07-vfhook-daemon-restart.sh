#!/bin/bash
# vfhook scenario 7: `systemctl restart libvirtd` while a guest with two VF ports runs (the
# hook's reconnect event). The guest keeps running with its VF settings; a later destroy
# still restores the VFs exactly as they were before the start.
. "$(dirname "$0")/lib/lab.sh"

pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF"
lab_pf_setup "$pf" 7
vfhook_install
KEEP_IDLE=false vfhook_default_config "$pf"
vf1=$(vf_pci "$pf" 1) vf3=$(vf_pci "$pf" 3)
mac1=52:54:00:aa:07:01 mac3=52:54:00:aa:07:03
before=$(vf_state "$pf")
meta=$(ports_metadata "$(port_record $mac1 provider 160 'trust="on"')" \
  "$(port_record $mac3 provider 170 'qos="4" spoofchk="off"')")
define_guest survivor "$(l2_xml survivor "$(vf_port $mac1 "$vf1" 160)$(vf_port $mac3 "$vf3" 170)" "$meta")"
step "start 'survivor' (VF 1 VLAN 160 trust on, VF 3 VLAN 170 qos 4 spoofchk off)"
start_guest survivor
expect_nic survivor "$mac1" 120
running_table=$(vf_table "$pf")
pid=$(cat /run/libvirt/qemu/survivor.pid)

step "systemctl restart libvirtd"
systemctl restart libvirtd || fail "libvirtd did not restart"
wait_for 90 "libvirtd after restart" virsh version
wait_for 30 "survivor to be seen running again" state_is survivor running
[ "$(cat /run/libvirt/qemu/survivor.pid)" = "$pid" ] || fail "the guest's QEMU was replaced across the restart"
[ "$(vf_table "$pf")" = "$running_table" ] || {
  diff <(echo "$running_table") <(vf_table "$pf") | sed 's/^/         /'
  fail "the restart changed the running guest's VFs (< before restart, > after)"
}
for v in "$vf1" "$vf3"; do [ "$(driver_of "$v")" = vfio-pci ] || fail "$v left vfio-pci"; done

step "destroy after the restart: everything restored"
virsh destroy survivor >/dev/null || fail "virsh destroy failed"
end=$((SECONDS + 30))
until [ "$(vf_state "$pf")" = "$before" ]; do
  if [ $SECONDS -ge $end ]; then
    diff <(echo "$before") <(vf_state "$pf") | sed 's/^/         /'
    fail "after the restart, destroy did not restore the VFs (< before start, > after)"
  fi
  sleep 0.5
done
remove_guest survivor
step "PASS"

#!/bin/bash
# vfctl scenario: the operator's path, with no hand-written XML. `vfctl doctor` finds the
# lab host ready (IOMMU, vfio-pci, the PF, the hook). `vfctl vfs apply` creates
# the pool's VFs (num_vfs), gives each an admin MAC and keeps them on vfio-pci; a second run
# changes nothing. `vfctl port add` writes a VF port into a plain guest's definition; the
# guest starts with it (the hook applies VLAN and trust) and sees its MAC; `vfctl status`
# shows the VF reserved, then claimed; `port remove` is refused while the guest runs and,
# after the stop, frees the VF.
. "$(dirname "$0")/lib/lab.sh"

pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF"
vfs_create "$pf" 0
ip link set "$pf" up
wait_for 20 "carrier on $pf" has_carrier "$pf"
vfhook_install
vfhook_default_config "$pf" "num_vfs = 4"
command -v vfctl >/dev/null || fail "vfctl is not installed"

step "vfctl doctor on the lab host"
doctor=$(vfctl doctor 2>&1 || true)
echo "$doctor" | sed 's/^/         /'
for check in iommu vfio-pci hook hook-core "pf provider/$pf"; do
  grep -q "^ok      $check:" <<<"$doctor" || fail "vfctl doctor: check '$check' is not ok"
done

step "vfctl vfs apply: 4 VFs on $pf, each with an admin MAC, idle ones on vfio-pci"
out=$(vfctl vfs apply 2>&1) || fail "vfctl vfs apply failed: $out"
echo "$out" | sed 's/^/         /'
[ "$(vf_count "$pf")" = 4 ] || fail "$pf has $(vf_count "$pf") VFs, not 4"
for i in 0 1 2 3; do
  [ "$(vf_mac "$pf" $i)" != 00:00:00:00:00:00 ] || fail "VF $i has no admin MAC"
  driver_is "$(vf_pci "$pf" $i)" vfio-pci || fail "VF $i is on $(driver_of "$(vf_pci "$pf" $i)")"
done
out=$(vfctl vfs apply 2>&1) || fail "the second vfs apply failed: $out"
grep -q '^nothing to do' <<<"$out" || fail "the second vfs apply changed something: $out"
info "second run: $out"

step "vfctl port add: a VF port on VLAN 130, trust on, into the plain guest 'ops'"
define_guest ops "$(l2_xml ops '')"
out=$(vfctl --json port add ops --pool provider --vlan 130 --trust on) ||
  fail "vfctl port add failed: $out"
mac=$(json_field mac <<<"$out")
vf=$(json_field vf <<<"$out")
index=$(json_field vf_index <<<"$out")
[ -n "$mac" ] && [ -n "$vf" ] && [ -n "$index" ] || fail "unexpected vfctl output: $out"
info "port ua-vfhook0: MAC $mac on VF $index ($vf)"
definition=$(virsh dumpxml --inactive ops)
grep -q "<interface type='hostdev'" <<<"$definition" ||
  fail "the definition has no hostdev interface"
grep -q 'vfhook:port' <<<"$definition" || fail "the definition has no port record"
vfctl port list ops | sed 's/^/         /'
status_has "\"address\":\"$vf\",\"driver\":\"vfio-pci\",\"use\":\"reserved\",\"domain\":\"ops\"" ||
  fail "vfctl status does not show $vf reserved for ops"

step "start 'ops': the hook applies what vfctl wrote"
start_guest ops
expect_vf "$pf" "$index" "link/ether $mac "
expect_vf "$pf" "$index" ", vlan 130[,]"
expect_vf "$pf" "$index" "trust on"
expect_nic ops "$mac" 120
status_has "\"address\":\"$vf\",\"driver\":\"vfio-pci\",\"use\":\"claimed\",\"domain\":\"ops\"" ||
  fail "vfctl status does not show $vf claimed by ops"

step "port remove while 'ops' runs with the port: refused, nothing changed"
if out=$(vfctl port remove ops ua-vfhook0 2>&1); then fail "port remove succeeded while running"; fi
grep -q 'detach it first' <<<"$out" || fail "unexpected refusal: $out"
info "$out"
grep -q 'ua-vfhook0' <<<"$(virsh dumpxml --inactive ops)" || fail "the port left the definition"

step "stop, then port remove frees the VF"
destroy_guest ops
wait_for 30 "the claim of $vf dropped" status_has "\"address\":\"$vf\",\"driver\":\"vfio-pci\",\"use\":\"reserved\""
out=$(vfctl port remove ops ua-vfhook0 2>&1) || fail "port remove failed: $out"
info "$out"
! grep -q "type='hostdev'" <<<"$(virsh dumpxml --inactive ops)" || fail "the hostdev is still defined"
status_has "\"address\":\"$vf\",\"driver\":\"vfio-pci\",\"use\":\"free\"" ||
  fail "$vf is not free after the port's removal"
remove_guest ops
step "PASS"

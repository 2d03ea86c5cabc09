#!/bin/bash
# vfhook scenario 6: four guests started at the same moment, two on each of two free VFs.
# Exactly two must run, the two others be refused by vfhook, and no VF be used twice: each
# VF carries the MAC of the one guest that runs on it, and that guest sees it.
. "$(dirname "$0")/lib/lab.sh"

pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF"
lab_pf_setup "$pf" 7
vfhook_install
vfhook_default_config "$pf"
vfa=$(vf_pci "$pf" 5) vfb=$(vf_pci "$pf" 6)

declare -A vf_of mac_of
for g in 1 2 3 4; do
  name=race$g mac=52:54:00:aa:06:0$g
  if [ $g -le 2 ]; then vf=$vfa; else vf=$vfb; fi
  vf_of[$name]=$vf mac_of[$name]=$mac
  define_guest "$name" "$(l2_xml "$name" "$(vf_port "$mac" "$vf" 150)" \
    "$(ports_metadata "$(port_record "$mac" provider 150)")")"
done

step "start race1..race4 at once (race1+race2 want VF 5 $vfa, race3+race4 want VF 6 $vfb)"
for g in 1 2 3 4; do
  (virsh start race$g >/tmp/lab-race$g.out 2>&1; echo $? >/tmp/lab-race$g.rc) &
done
wait
running=() refused=()
for g in 1 2 3 4; do
  if [ "$(cat /tmp/lab-race$g.rc)" = 0 ]; then running+=(race$g); else refused+=(race$g); fi
done
info "running: ${running[*]:-none}; refused: ${refused[*]:-none}"
[ ${#running[@]} -eq 2 ] || fail "${#running[@]} guests run, expected 2 (one per VF)"
for r in "${refused[@]}"; do
  out=$(cat /tmp/lab-$r.out)
  echo "$out" | grep -q 'Hook script execution failed' && echo "$out" | grep -qi vfhook ||
    fail "$r was refused, but not by vfhook: $out"
  not_running "$r" || fail "$r is running although its start failed"
done
[ "${vf_of[${running[0]}]}" != "${vf_of[${running[1]}]}" ] ||
  fail "${running[0]} and ${running[1]} both run on ${vf_of[${running[0]}]}"

step "each VF belongs to exactly one running guest"
for r in "${running[@]}"; do
  # The lab's firmware-reset flake (see start_guest): the winner is started again.
  if [ "$(domain_state "$r")" = "shut off" ] && ! grep -aq 'Linux version' "$L2_LOGS/$r.serial"; then
    info "$r reset before its kernel ran (a lab flake): starting it again"
    start_guest "$r"
  fi
  idx=5; [ "${vf_of[$r]}" = "$vfb" ] && idx=6
  expect_vf "$pf" $idx "link/ether ${mac_of[$r]} "
  [ "$(driver_of "${vf_of[$r]}")" = vfio-pci ] || fail "${vf_of[$r]} of $r is not on vfio-pci"
  # Two L2 guests boot at once on the lab host's single emulated vCPU: each takes about twice
  # as long as one alone (race2 reached its /init only after 65 s in one run), so the wait is
  # twice the single-guest one.
  expect_nic "$r" "${mac_of[$r]}" 240
done
for g in 1 2 3 4; do remove_guest race$g; done
step "PASS"

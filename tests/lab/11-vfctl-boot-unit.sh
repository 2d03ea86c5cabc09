#!/bin/bash
# vfctl scenario: VFs at boot. The lab host boots with no VFs; vfhook is installed with a pool
# asking for 3 VFs kept on vfio-pci, vfhook-vfs.service is enabled, and the host reboots. After
# the boot the unit has run before libvirtd: the PF has 3 VFs, each with an admin MAC, on
# vfio-pci, and `vfctl vfs apply` finds nothing to do. Runs first in its lab boot (it asserts
# the boot's VF count).
. "$(dirname "$0")/lib/lab.sh"

pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF"
unit=vfhook-vfs.service

if ! lab_rebooted; then
  step "boot 1: the lab host booted with $(vf_count "$pf") VFs on $pf"
  [ "$(vf_count "$pf")" = 0 ] || fail "$pf has VFs before anything created them"
  vfhook_install
  vfhook_default_config "$pf" "num_vfs = 3"
  systemctl cat "$unit" >/dev/null 2>&1 || fail "$unit is not installed"
  # The package installs it under /usr/lib, `cmake --install` under /usr/local/lib.
  # (grep -q succeeds on a match even when the other file does not exist)
  grep -qx vfio-pci /usr/lib/modules-load.d/vfhook.conf /usr/local/lib/modules-load.d/vfhook.conf 2>/dev/null ||
    fail "no modules-load.d file for vfio-pci"
  systemctl show -p After,Before "$unit" | sed 's/^/         /'
  systemctl enable "$unit" 2>&1 | sed 's/^/         /'
  [ "$(vf_count "$pf")" = 0 ] || fail "enabling the unit created VFs before the boot"
  lab_reboot
fi

step "boot 2: what $unit did (vfio-pci loaded at boot: $(cat /sys/module/vfio_pci/initstate 2>/dev/null || echo no))"
journalctl -b -u "$unit" --no-pager -o cat | sed 's/^/         /'
[ "$(systemctl show -p Result --value "$unit")" = success ] ||
  fail "$unit did not succeed: $(systemctl status "$unit" --no-pager 2>&1 | tail -5)"
[ "$(systemctl is-active "$unit")" = active ] || fail "$unit is not active"
[ "$(vf_count "$pf")" = 3 ] || fail "$pf has $(vf_count "$pf") VFs after the boot, not 3"
for i in 0 1 2; do
  mac=$(vf_mac "$pf" $i)
  [ "$mac" != 00:00:00:00:00:00 ] || fail "VF $i has no admin MAC"
  driver_is "$(vf_pci "$pf" $i)" vfio-pci || fail "VF $i is on $(driver_of "$(vf_pci "$pf" $i)")"
  info "VF $i: $(vf_pci "$pf" $i) MAC $mac on vfio-pci"
done

step "the unit ran before libvirtd started"
unit_done=$(systemctl show -p ExecMainExitTimestampMonotonic --value "$unit")
libvirtd_started=$(systemctl show -p ExecMainStartTimestampMonotonic --value libvirtd.service)
info "$unit exited at ${unit_done} us, libvirtd started at ${libvirtd_started} us (monotonic)"
[ "${unit_done:-0}" -gt 0 ] && [ "${libvirtd_started:-0}" -gt "$unit_done" ] ||
  fail "libvirtd did not start after $unit finished"

step "vfctl vfs apply again: nothing to do"
out=$(vfctl vfs apply 2>&1) || fail "vfctl vfs apply failed: $out"
grep -q '^nothing to do' <<<"$out" || fail "vfs apply changed something after the boot: $out"
info "$out"

systemctl disable "$unit" >/dev/null 2>&1
vfs_create "$pf" 0
step "PASS"

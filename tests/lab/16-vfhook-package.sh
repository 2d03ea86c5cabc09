#!/bin/bash
# vfhook scenario 16: the Debian package on a host whose libvirt runs under Debian's AppArmor
# profile, as an operator has it (runs last in its boot: it purges the package).
#  1. Installed from the .deb (lab-run --deb): the hook is a real file in qemu.d, libvirtd is
#     confined ("libvirtd (enforce)"), and a guest with a VF port starts and gets its VF.
#     An upgrade while it runs leaves it and its VF alone; doctor sees the postinst's reload.
#  2. `dpkg -r vfhook` while that guest holds the VF is refused with the reason; the hook,
#     the guest and its VF stay as they were.
#  3. The hook installed the way AppArmor forbids (qemu.d/vfhook a symlink to a file outside
#     what libvirtd's profile may run): `virsh start` fails, the kernel logs the denial,
#     `vfctl doctor` names the problem and the fix; the fix applied, the guest starts.
#  4. The guest stopped (its VF restored), `dpkg --purge vfhook`: no hook, no config, no
#     state left, and libvirt still starts a guest.
. "$(dirname "$0")/lib/lab.sh"

[ -n "${LAB_DEB:-}" ] || fail "this scenario checks the package: run lab-run with --deb"
pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF"
lab_pf_setup "$pf" 7
vfhook_install
vfhook_default_config "$pf"
vf3=$(vf_pci "$pf" 3)
mac=52:54:00:aa:16:01
meta=$(ports_metadata "$(port_record $mac provider 116)")
define_guest pkg "$(l2_xml pkg "$(vf_port $mac "$vf3" 116)" "$meta")"

step "1. installed from $(basename "$LAB_DEB"): the hook and libvirt's confinement"
[ -f "$VFHOOK_HOOK" ] && [ ! -L "$VFHOOK_HOOK" ] || fail "$VFHOOK_HOOK is not a regular file"
cmp -s "$VFHOOK_HOOK" /usr/libexec/vfhook/vfhook || fail "$VFHOOK_HOOK is not the packaged hook"
info "libvirtd: $(libvirtd_confinement)"
# First a port on a VLAN the pool does not allow: refused (and in the journal's story).
define_guest pkg "$(l2_xml pkg "$(vf_port $mac "$vf3" 250)" "$(ports_metadata "$(port_record $mac provider 250)")")"
out=$(try_start pkg) && fail "a port on VLAN 250 started (the pool allows 100-199)"
info "VLAN 250 refused: $out"
define_guest pkg "$(l2_xml pkg "$(vf_port $mac "$vf3" 116)" "$meta")"
start_guest pkg
expect_vf "$pf" 3 "link/ether $mac .*, vlan 116[,]"
driver_is "$vf3" vfio-pci || fail "$vf3 is on $(driver_of "$vf3") while the guest runs"
qemu_pid=$(pgrep -f 'guest=pkg' | head -1)
qemu_label=$(tr -d '\0' <"/proc/$qemu_pid/attr/current")
info "the guest's QEMU runs confined too: $qemu_label"
case "$qemu_label" in libvirt-*"(enforce)") ;; *) fail "QEMU is not under an svirt profile: $qemu_label" ;; esac
before_remove=$(vf_state "$pf")

step "1b. an upgrade (the same package again) while the guest runs"
dpkg -i "$LAB_DEB" 2>&1 | sed 's/^/         | /'
wait_for 60 "libvirtd after the package's reload" virsh version
[ "$(domain_state pkg)" = running ] || fail "the upgrade stopped the guest: $(domain_state pkg)"
[ "$(vf_state "$pf")" = "$before_remove" ] || fail "the upgrade changed the VFs"
# The postinst reloaded libvirtd after it put the new hook in place, and noted it: doctor knows
# libvirt has seen this hook although the daemon started before it.
doctor=$(vfctl doctor 2>&1) || true
echo "$doctor" | grep -E '^(ok|warning|FAILED) +(hook|libvirt-reload)' | sed 's/^/         | /'
echo "$doctor" | grep -q '^ok *libvirt-reload: .*reloaded by vfhook.s package' ||
  fail "vfctl doctor does not see the package's reload of libvirtd"
info "the guest and its VF as they were; doctor sees the reload"

step "2. dpkg -r vfhook while the guest holds its VF: refused, nothing changes"
if out=$(dpkg -r vfhook 2>&1); then
  echo "$out" | sed 's/^/         | /'
  fail "dpkg -r vfhook succeeded while a guest holds a VF"
fi
echo "$out" | grep -A3 'refusing to remove' | sed 's/^/         | /'
echo "$out" | grep -q 'guests hold 1 VFs or devices' || fail "the refusal does not say what holds the VFs"
dpkg-query -W -f='${Status}\n' vfhook | grep -q ' installed$' || fail "the package is no longer installed"
[ -x "$VFHOOK_HOOK" ] || fail "the refused removal took the hook away"
[ "$(domain_state pkg)" = running ] || fail "the guest is $(domain_state pkg)"
[ "$(vf_state "$pf")" = "$before_remove" ] || fail "the refused removal changed the VFs"
info "refused; hook, guest and VF as they were"

step "3. the hook installed behind a symlink that libvirtd's AppArmor profile may not follow"
virsh destroy pkg >/dev/null || fail "virsh destroy pkg failed"
wait_for 30 "the guest to stop" not_running pkg
# An operator's own install: the hook's file kept in /usr/local/libexec, qemu.d pointing at it.
mkdir -p /usr/local/libexec/vfhook
cp /usr/libexec/vfhook/vfhook /usr/local/libexec/vfhook/vfhook
ln -sf /usr/local/libexec/vfhook/vfhook "$VFHOOK_HOOK"
systemctl reload libvirtd
wait_for 60 "libvirtd after reload" virsh version
echo 'operation="exec".*/usr/local/libexec/vfhook/vfhook' >"$LAB_RESULTS/$lab_scenario.apparmor-expected"
if out=$(try_start pkg); then
  fail "the guest started although AppArmor denies libvirtd the hook"
fi
info "virsh start: $out"
wait_for 10 "the kernel's denial" bash -c \
  "journalctl -k --no-pager -o cat | grep -a 'apparmor=\"DENIED\"' | grep -q /usr/local/libexec/vfhook/vfhook"
info "kernel: $(journalctl -k --no-pager -o cat | grep -a 'apparmor="DENIED"' | grep -a /usr/local/libexec/vfhook | tail -1 |
  grep -o 'operation="[^"]*".*name="[^"]*"')"
[ "$(vfctl claims --count)" = 0 ] || fail "the failed start left claims: $(vfctl claims)"
doctor=$(vfctl doctor 2>&1) && fail "vfctl doctor passed with the hook behind a symlink"
echo "$doctor" | grep -B1 -A3 -i 'symlink' | sed 's/^/         | /'
echo "$doctor" | grep -q 'AppArmor' || fail "vfctl doctor does not name AppArmor"
fix=$(echo "$doctor" | sed -n 's/.*\(cp --remove-destination .*\)$/\1/p' | head -1)
[ -n "$fix" ] || fail "vfctl doctor names no fix"
info "applying the doctor's fix: $fix"
bash -c "$fix" || fail "the doctor's fix failed: $fix"
[ -f "$VFHOOK_HOOK" ] && [ ! -L "$VFHOOK_HOOK" ] || fail "the fix left $VFHOOK_HOOK a symlink"
start_guest pkg
expect_vf "$pf" 3 "link/ether $mac .*, vlan 116[,]"
info "after the fix the guest starts and gets its VF"

step "4. the guest stopped, dpkg --purge vfhook"
virsh destroy pkg >/dev/null || fail "virsh destroy pkg failed"
wait_for 30 "the guest to stop" not_running pkg
[ "$(vfctl claims --count)" = 0 ] || fail "claims left after the stop: $(vfctl claims)"
info "the guest's story: journalctl -t vfhook DOMAIN=pkg"
journalctl -t vfhook DOMAIN=pkg --no-pager -o short-precise | sed 's/^/         | /'
journalctl -t vfhook DOMAIN=pkg OUTCOME=refused --no-pager -o cat | grep -q 'VLAN 250' ||
  fail "the journal has no refusal of VLAN 250 for pkg"
dpkg --purge vfhook 2>&1 | sed 's/^/         | /'
dpkg-query -W -f='${Status}\n' vfhook 2>/dev/null | grep -q ' installed$' && fail "vfhook is still installed"
for gone in "$VFHOOK_HOOK" /etc/vfhook /var/lib/vfhook /usr/libexec/vfhook/vfhook /usr/sbin/vfctl; do
  [ ! -e "$gone" ] || fail "$gone is left after the purge"
done
info "purged: no hook in qemu.d, no /etc/vfhook, no /var/lib/vfhook"
rm -rf /usr/local/libexec/vfhook
define_guest plain "$(l2_xml plain "")"
start_guest plain
[ "$(domain_state plain)" = running ] || fail "the plain guest is $(domain_state plain)"
info "libvirt starts a guest without vfhook"
remove_guest plain
remove_guest pkg
step "PASS"

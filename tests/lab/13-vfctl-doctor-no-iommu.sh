#!/bin/bash
# vfctl scenario: a host booted without the IOMMU (lab-run --no-iommu: intel_iommu=off with
# the vIOMMU present). `vfctl doctor` fails, names the missing IOMMU and how to turn it on;
# a guest with a VF port cannot be given its VF (libvirt or vfhook refuses the start with a
# reason) and nothing is left claimed.
. "$(dirname "$0")/lib/lab.sh"

pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF"
step "kernel command line: $(cat /proc/cmdline)"
grep -qw 'intel_iommu=off' /proc/cmdline || fail "this host was not booted with intel_iommu=off"
info "IOMMU groups: $(ls /sys/kernel/iommu_groups | wc -l)"
vfs_create "$pf" 2
ip link set "$pf" up
vfhook_install
vfhook_default_config "$pf"

step "vfctl doctor"
rc=0; out=$(vfctl doctor 2>&1) || rc=$?
echo "$out" | sed 's/^/         /'
[ $rc -ne 0 ] || fail "vfctl doctor passed on a host without an IOMMU"
grep -q '^FAILED  iommu:' <<<"$out" || fail "doctor did not fail the iommu check"
sed -n '/^FAILED  iommu:/{n;p}' <<<"$out" | grep -q 'fix: add intel_iommu=on' ||
  fail "doctor did not name the fix for the IOMMU"
grep -q '^ok      hook:' <<<"$out" || fail "doctor does not find the installed hook"
rc=0; json=$(vfctl --json doctor 2>&1) || rc=$?
[ $rc -ne 0 ] || fail "vfctl --json doctor exited 0"
grep -q '"intel_iommu=on' <<<"$json" || grep -q 'intel_iommu=on' <<<"$json" || fail "--json has no fix"

step "a guest with a VF port cannot start, and nothing stays claimed"
define_guest noiommu "$(l2_xml noiommu "$(vf_port 52:54:00:13:00:01 "$(vf_pci "$pf" 0)" 120)" \
  "$(ports_metadata "$(port_record 52:54:00:13:00:01 provider 120)")")"
if out=$(try_start noiommu); then fail "the guest started without an IOMMU"; fi
info "virsh start: $(tr '\n' ' ' <<<"$out" | cut -c1-400)"
status=$(vfctl --json status | tr -d '\n ')
[[ "$status" != *'"use":"claimed"'* ]] || fail "a VF stayed claimed: $status"
remove_guest noiommu
step "PASS"

#!/bin/bash
# vfctl scenario: hot-plug. A running guest with no NIC gets a VF port through libvirt
# (`vfctl attach`): the VF is claimed and configured (VLAN 140, trust), the guest sees a new
# NIC with the port's MAC; `vfctl detach` unplugs it, the guest sees it go, and the VF is
# restored (MAC, VLAN, trust as before) and free. Then the same into a plain QEMU that libvirt
# does not manage, started as libvirt-qemu with a QMP socket: `vfctl attach --qmp` gives that
# QEMU the VFIO group and the memlock it needs, the guest sees the NIC come and go.
. "$(dirname "$0")/lib/lab.sh"

pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF"
vfs_create "$pf" 0
ip link set "$pf" up
wait_for 20 "carrier on $pf" has_carrier "$pf"
vfhook_install
vfhook_default_config "$pf" "num_vfs = 4"
if ! out=$(vfctl vfs apply 2>&1); then
  ip -br link | sed 's/^/         /'
  journalctl -b --no-pager -n 40 | sed 's/^/         /'
  fail "vfctl vfs apply failed: $out"
fi
# vf_snapshot INDEX: the VF's MAC, VLAN and trust as `ip link` shows them
vf_snapshot() { vf_line "$pf" "$1" | sed 's/^vf [0-9]* *//; s/, spoof checking[^,]*//; s/, link-state[^,]*//'; }

step "a running guest 'hot' with no NIC and two free hot-plug slots"
define_guest hot "$(l2_xml hot "$(spare_root_ports 2)" '' 'lab.hold=forever lab.watch=1')"
start_guest hot
wait_serial hot '^LAB-L2-DONE' 120 >/dev/null
wait_serial hot '^LAB-NIC none' 5 >/dev/null

step "vfctl attach hot --pool provider --vlan 140 --trust on"
t0=$(date +%s%N)
out=$(vfctl --json attach hot --pool provider --vlan 140 --trust on 2>&1) ||
  fail "vfctl attach failed: $out"
info "vfctl attach took $((($(date +%s%N) - t0) / 1000000)) ms"
mac=$(json_field mac <<<"$out"); vf=$(json_field vf <<<"$out")
index=$(json_field vf_index <<<"$out"); alias=$(json_field alias <<<"$out")
[ -n "$mac" ] && [ -n "$vf" ] && [ -n "$index" ] && [ -n "$alias" ] || fail "unexpected output: $out"
info "port $alias: MAC $mac on VF $index ($vf)"
expect_vf "$pf" "$index" "link/ether $mac "
expect_vf "$pf" "$index" ", vlan 140[,]"
expect_vf "$pf" "$index" "trust on"
grep -q "<alias name='$alias'/>" <<<"$(virsh dumpxml hot)" || fail "the live XML has no $alias"
! grep -q "$alias" <<<"$(virsh dumpxml --inactive hot)" || fail "attach without --persistent changed the definition"
status_has "\"address\":\"$vf\",\"driver\":\"vfio-pci\",\"use\":\"claimed\",\"domain\":\"hot\"" ||
  fail "vfctl status does not show $vf claimed by hot"
expect_nic_added hot "$mac" 90

step "vfctl detach hot $alias: the guest lets go, the VF is restored"
out=$(vfctl detach hot "$alias" 2>&1) || fail "vfctl detach failed: $out"
info "$out"
expect_nic_removed hot "$mac" 30
! grep -q "<alias name='$alias'/>" <<<"$(virsh dumpxml hot)" || fail "$alias is still in the live XML"
after=$(vf_snapshot "$index")
info "VF $index now: $after"
grep -q ", vlan 140" <<<"$after" && fail "VF $index still has VLAN 140"
grep -q "trust on" <<<"$after" && fail "VF $index still trusts the guest"
grep -q "link/ether $mac " <<<"$after" && fail "VF $index still has the guest's MAC"
driver_is "$vf" vfio-pci || fail "$vf left vfio-pci (the pool keeps idle VFs on it)"
status_has "\"address\":\"$vf\",\"driver\":\"vfio-pci\",\"use\":\"free\"" || fail "$vf is not free"
remove_guest hot

step "a plain QEMU (no libvirt) as libvirt-qemu, with a QMP socket"
qdir=/run/lab-qmp
rm -rf "$qdir"; mkdir -p "$qdir" "$L2_LOGS"
chown libvirt-qemu:kvm "$qdir"
serial=$L2_LOGS/qmpvm.serial
: >"$serial"; chown libvirt-qemu:kvm "$serial"
setpriv --reuid=libvirt-qemu --regid=kvm --clear-groups --inh-caps=-all \
  qemu-system-x86_64 -name qmpvm -machine q35,accel=kvm -cpu host -m 192 -smp 1 \
  -nodefaults -no-user-config -display none -daemonize -pidfile "$qdir/qemu.pid" \
  -kernel "$L2_KERNEL" -initrd "$L2_INITRD" \
  -append "console=ttyS0 panic=-1 lab.hold=forever lab.watch=1" \
  -serial "file:$serial" -qmp "unix:$qdir/qmp.sock,server=on,wait=off" \
  -device pcie-root-port,id=rp1,chassis=1 -device pcie-root-port,id=rp2,chassis=2 ||
  fail "cannot start the plain QEMU"
qpid=$(cat "$qdir/qemu.pid")
trap 'kill "$qpid" 2>/dev/null || true' EXIT
# memlock_of PID: the process's RLIMIT_MEMLOCK soft limit in bytes ("unlimited" if so)
memlock_of() { prlimit -p "$1" --memlock --raw --noheadings -o SOFT | tr -d ' '; }
info "QEMU pid $qpid, user $(ps -o user= -p "$qpid"), memlock $(memlock_of "$qpid") bytes"
# virsh cannot see this guest: wait on its console file directly.
wait_plain() { # REGEX SECONDS
  local end=$((SECONDS + $2))
  until tr -d '\r' <"$serial" | grep -aE -- "$1" | head -1 | grep .; do
    [ $SECONDS -lt $end ] || { tail -n 20 "$serial" | sed 's/^/    /' >&2; fail "no /$1/ on qmpvm's console in $2 s"; }
    kill -0 "$qpid" 2>/dev/null || fail "the plain QEMU exited"
    sleep 0.5
  done
}
wait_plain '^LAB-L2-DONE' 120 >/dev/null

step "vfctl attach qmpvm --qmp $qdir/qmp.sock --pool provider --vlan 150"
out=$(vfctl --json attach qmpvm --qmp "$qdir/qmp.sock" --pool provider --vlan 150 2>&1) ||
  fail "vfctl attach --qmp failed: $out"
echo "$out" | sed 's/^/         /'
mac=$(json_field mac <<<"$out"); vf=$(json_field vf <<<"$out")
index=$(json_field vf_index <<<"$out"); alias=$(json_field alias <<<"$out")
[ -n "$mac" ] && [ -n "$vf" ] && [ -n "$alias" ] || fail "unexpected output: $out"
group=$(basename "$(readlink "/sys/bus/pci/devices/$vf/iommu_group")")
memlock=$(memlock_of "$qpid")
info "/dev/vfio/$group: $(stat -c '%U:%G %a' "/dev/vfio/$group"); QEMU memlock now $memlock bytes"
# vfctl raises it to guest RAM (192 MiB) + 1 GiB, as libvirt would.
[ "$memlock" = unlimited ] || [ "$memlock" -ge $(((192 + 1024) * 1024 * 1024)) ] ||
  fail "QEMU's memlock limit is $memlock bytes, below guest RAM + 1 GiB"
[ "$(stat -c %U "/dev/vfio/$group")" = libvirt-qemu ] || fail "/dev/vfio/$group is not libvirt-qemu's"
expect_vf "$pf" "$index" "link/ether $mac "
expect_vf "$pf" "$index" ", vlan 150[,]"
line=$(wait_plain "^LAB-NIC-ADDED .*mac=$mac " 90)
grep -q 'link=up' <<<"$line" || fail "the hot-plugged NIC has no link: $line"
info "qmpvm: $line"
status_has "\"address\":\"$vf\",\"driver\":\"vfio-pci\",\"use\":\"claimed\",\"domain\":\"qmp:qmpvm\"" ||
  fail "vfctl status does not show $vf claimed by qmp:qmpvm"

step "vfctl detach qmpvm $alias --qmp: the guest sees the NIC go, the VF is restored"
out=$(vfctl detach qmpvm "$alias" --qmp "$qdir/qmp.sock" 2>&1) || fail "vfctl detach --qmp failed: $out"
info "$out"
info "qmpvm: $(wait_plain "^LAB-NIC-REMOVED .*mac=$mac\$" 30)"
after=$(vf_snapshot "$index")
info "VF $index now: $after"
grep -q ", vlan 150" <<<"$after" && fail "VF $index still has VLAN 150"
status_has "\"address\":\"$vf\",\"driver\":\"vfio-pci\",\"use\":\"free\"" || fail "$vf is not free"
kill "$qpid"
step "PASS"

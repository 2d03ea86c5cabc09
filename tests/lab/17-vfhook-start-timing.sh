#!/bin/bash
# Measurement scenario 17 (issue 9): where a `virsh start` and its `virsh destroy` spend their
# time per VF, from timestamps inside the lab host (libvirtd's debug log), not from the wall
# time of the whole start, which the emulated L1 blurs. Three ways to give a guest N VFs, for
# N = 2 and 4, in the same boot:
#   prebound  vfhook ports (managed='no'), the pool keeps idle VFs on vfio-pci: the hooks claim,
#             configure and restore, nothing is rebound
#   rebound   the same ports with keep_idle_on_vfio = false: the hook binds vfio-pci at
#             prepare and the host driver back at release (what libvirt's managed='yes' does)
#   managed   libvirt's managed='yes' <interface type='hostdev'> on VFs of a second PF that is
#             in no vfhook pool (vfhook runs and leaves them alone), on igbvf before the start
# Each is started and destroyed LAB_TIMING_RUNS times (default 3) after one warm-up cycle;
# the table gives medians. It asserts only what makes the numbers mean something (each start
# succeeds, the VFs end on the driver the case promises), never a time.
. "$(dirname "$0")/lib/lab.sh"

[ "${LAB_PFS:-1}" -ge 2 ] || fail "needs two igb PFs: lab-run --pfs 2 (or 3)"
runs=${LAB_TIMING_RUNS:-3}
pool_pf=$(netdev_of "$(pf_pci)") managed_pf=$(netdev_of "$(pf2_pci)")
[ -n "$pool_pf" ] && [ -n "$managed_pf" ] || fail "no igb PF netdevs"
timing=$(dirname "$0")/lib/libvirtd-timing
log=/var/log/libvirt/lab-timing.log
records=/tmp/lab-17-records

vfhook_install
step "pool 'provider' on $pool_pf: vfctl vfs apply (7 VFs, admin MACs, idle ones on vfio-pci)"
vfs_create "$pool_pf" 0
ip link set "$pool_pf" up
wait_for 20 "carrier on $pool_pf" has_carrier "$pool_pf"
pool_config() { # KEEP_IDLE
  KEEP_IDLE=$1 vfhook_default_config "$pool_pf" "num_vfs = 7"
}
pool_config true
out=$(vfctl vfs apply 2>&1) || fail "vfctl vfs apply failed: $out"
step "$managed_pf: 7 VFs on igbvf, in no vfhook pool (libvirt's managed='yes')"
lab_pf_setup "$managed_pf" 7

lab_exec_baseline_hook
lab_libvirtd_debug_log "$log"

for n in 2 4; do
  ports="" records_xml="" managed=""
  for ((i = 0; i < n; i++)); do
    mac=$(printf '52:54:00:17:%02x:%02x' "$n" "$i")
    ports+=$(vf_port "$mac" "$(vf_pci "$pool_pf" "$i")" $((110 + i)))
    records_xml+=$(port_record "$mac" provider $((110 + i)))
    mac=$(printf '52:54:00:17:%02x:%02x' "$n" $((0x80 + i)))
    managed+=$(hostdev_iface "$mac" "$(vf_pci "$managed_pf" "$i")" yes "<vlan><tag id='$((110 + i))'/></vlan>")
  done
  # One domain per case: its name is how the log's records are told apart.
  define_guest "prebound$n" "$(l2_xml "prebound$n" "$ports" "$(ports_metadata "$records_xml")")"
  define_guest "rebound$n" "$(l2_xml "rebound$n" "$ports" "$(ports_metadata "$records_xml")")"
  define_guest "managed$n" "$(l2_xml "managed$n" "$managed")"
done

# expect_drivers PF N DRIVER: VFs 0..N-1 of PF are on DRIVER
expect_drivers() {
  local i pci
  for ((i = 0; i < $2; i++)); do
    pci=$(vf_pci "$1" "$i")
    driver_is "$pci" "$3" || fail "VF $i ($pci) of $1 is on $(driver_of "$pci"), expected $3"
  done
}
# cycle CASE N RUN: start and destroy the case's guest; its log records go to $records as
# "CASE N RUN record..." (RUN 0 is the warm-up, left out of the table)
cycle() {
  local name=$1$2 mark out
  mark=$(log_size "$log")
  out=$(virsh start "$name" 2>&1) || fail "virsh start $name failed: $out"
  virsh destroy "$name" >/dev/null 2>&1 || true
  wait_for 30 "$name to stop" not_running "$name"
  log_since "$log" "$mark" >"/tmp/lab-17-$name-$3.log"
  "$timing" "/tmp/lab-17-$name-$3.log" | grep " $name " | sed "s/^/$1 $2 $3 /" >>"$records"
}
: >"$records"
for n in 2 4; do
  step "prebound, $n VFs: keep_idle_on_vfio = true (VFs already on vfio-pci), $((runs + 1)) cycles"
  pool_config true
  for ((r = 0; r <= runs; r++)); do cycle prebound "$n" "$r"; done
  expect_drivers "$pool_pf" "$n" vfio-pci

  step "rebound, $n VFs: keep_idle_on_vfio = false (the hook rebinds), $((runs + 1)) cycles"
  pool_config false
  for ((i = 0; i < n; i++)); do bind_host_driver "$(vf_pci "$pool_pf" "$i")"; done
  for ((r = 0; r <= runs; r++)); do cycle rebound "$n" "$r"; done
  expect_drivers "$pool_pf" "$n" igbvf
  pool_config true

  step "managed, $n VFs: libvirt's managed='yes' on $managed_pf (on igbvf), $((runs + 1)) cycles"
  expect_drivers "$managed_pf" "$n" igbvf
  for ((r = 0; r <= runs; r++)); do cycle managed "$n" "$r"; done
  expect_drivers "$managed_pf" "$n" igbvf
done
cp "$log" "$LAB_RESULTS/17-libvirtd-timing.log" 2>/dev/null || true
cp "$records" "$LAB_RESULTS/17-records.txt" 2>/dev/null || true
grep -q ' hook .* failed$' "$records" && fail "a hook call failed: $(grep ' hook .* failed$' "$records" | head -3)"
for c in prebound rebound managed; do
  grep -q "^$c 2 1 hook " "$records" || fail "no hook call of ${c}2 in libvirtd's log (filters not applied?)"
done
grep -q '^managed 2 1 detach ' "$records" || fail "no managed='yes' detach in libvirtd's log"

step "per event: median ms over $runs runs (libvirtd's log; +-1 ms), and per VF"
"$(dirname "$0")/lib/timing-table" "$records" >/tmp/lab-17-table
printf '         %-9s %2s  %-22s %7s %7s\n' case VFs event ms "ms/VF"
sed 's/^/         /' /tmp/lab-17-table
cp /tmp/lab-17-table "$LAB_RESULTS/17-table.txt" 2>/dev/null || true

# The figures of the issue: vfhook's hooks per VF on the pre-bound path, the same less what a
# do-nothing hook costs (exec under this emulated host), libvirt's rebind per VF (detach at
# start + reattach at stop), and their ratios; all from the same boot.
per_vf() { awk -v c="$1" -v n="$2" -v e="$3" '$1 == c && $2 == n && index($0, e) { print $NF }' /tmp/lab-17-table; }
for n in 2 4; do
  hooks=$(per_vf prebound "$n" "vfhook hooks total")
  rehooks=$(per_vf rebound "$n" "vfhook hooks total")
  rebind=$(per_vf managed "$n" "libvirt rebind total")
  mhooks=$(per_vf managed "$n" "vfhook hooks total")
  exec_base=$(per_vf prebound "$n" "exec baseline total")
  ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'; }
  above=$(awk -v a="${hooks:-0}" -v b="${exec_base:-0}" 'BEGIN { printf "%.1f", a - b }')
  echo "TIMING vfs=$n prebound_hooks_ms_per_vf=${hooks:-?} exec_baseline_ms_per_vf=${exec_base:-?} prebound_hooks_above_exec_ms_per_vf=$above rebound_hooks_ms_per_vf=${rehooks:-?} managed_rebind_ms_per_vf=${rebind:-?} managed_vfhook_hooks_ms_per_vf=${mhooks:-?} ratio_prebound_hooks_to_rebind=$(ratio "$hooks" "$rebind") ratio_prebound_hooks_to_exec=$(ratio "$hooks" "$exec_base")"
done | tee "$LAB_RESULTS/17-figures.txt" | sed 's/^/         /'
step "PASS"

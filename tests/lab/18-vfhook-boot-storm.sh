#!/bin/bash
# Measurement scenario 18 (issue 9): a boot storm. 8 guests with 2 vfhook VF ports each (ports
# added by `vfctl port add` over a pool of 3 PFs x 7 VFs) are started at the same moment on one
# host. Asserted: every start succeeds; the 16 VFs in the running XMLs are pairwise different;
# vfctl status shows each claimed by its guest; each VF carries its port's MAC and VLAN; after
# all are destroyed (at once too) every VF is as before (table and driver) and free. Reported,
# never asserted: the storm's wall time, each start's hook time from libvirtd's log, the slowest,
# and the same for one guest started alone first (the baseline of the ratio).
# The L2 guests are not waited for (TCG makes that slow): that all start and hold distinct,
# configured VFs is the point. They get 96 MiB each (a VF guest's memory is pinned).
. "$(dirname "$0")/lib/lab.sh"

[ "${LAB_PFS:-1}" -ge 3 ] || fail "needs three igb PFs: lab-run --pfs 3"
guests=8
timing=$(dirname "$0")/lib/libvirtd-timing
log=/var/log/libvirt/lab-timing.log
pfs=()
for pci in $(igb_pfs); do pfs+=("$(netdev_of "$pci")"); done
[ ${#pfs[@]} -ge 3 ] || fail "found ${#pfs[@]} igb PFs, expected 3"

vfhook_install
step "pool 'provider' on ${pfs[*]}: vfctl vfs apply (7 VFs each, idle ones on vfio-pci)"
for pf in "${pfs[@]}"; do
  vfs_create "$pf" 0
  ip link set "$pf" up
  wait_for 20 "carrier on $pf" has_carrier "$pf"
done
vfhook_config "state_dir = \"/var/lib/vfhook\"
host_bridge_vlans = [\"1-99\"]
[[pool]]
name = \"provider\"
pfs = [\"${pfs[0]}\", \"${pfs[1]}\", \"${pfs[2]}\"]
vlans = [\"100-199\"]
num_vfs = 7
keep_idle_on_vfio = true"
out=$(vfctl vfs apply 2>&1) || fail "vfctl vfs apply failed: $out"
lab_exec_baseline_hook
lab_libvirtd_debug_log "$log"

step "$guests guests storm1..storm$guests (96 MiB), 2 ports each by vfctl port add (VLAN 100+2g, 101+2g)"
declare -A vlan_of
for ((g = 1; g <= guests; g++)); do
  define_guest "storm$g" "$(l2_xml "storm$g" '' '' lab.hold=forever 96)"
  for v in $((100 + 2 * g)) $((101 + 2 * g)); do
    out=$(vfctl --json port add "storm$g" --pool provider --vlan "$v") || fail "vfctl port add storm$g failed: $out"
    vlan_of[$(json_field mac <<<"$out")]=$v
  done
done
all_state() { local pf; for pf in "${pfs[@]}"; do echo "== $pf"; vf_state "$pf"; done; }
before=$(all_state)

# live_ports NAME: "MAC PCI" per VF port of the running guest (its <interface type='hostdev'>)
live_ports() {
  virsh dumpxml "$1" | awk '
    /<interface type=.hostdev./ { inif = 1; mac = ""; pci = "" }
    inif && /<mac address=/ { match($0, /address=.[0-9a-f:]*/); mac = substr($0, RSTART + 9, RLENGTH - 9) }
    inif && /<source>/ { insrc = 1 }
    inif && insrc && /<address type=.pci./ {
      d = $0; sub(/.*domain=.0x/, "", d); sub(/[^0-9a-f].*/, "", d)
      b = $0; sub(/.*bus=.0x/, "", b); sub(/[^0-9a-f].*/, "", b)
      s = $0; sub(/.*slot=.0x/, "", s); sub(/[^0-9a-f].*/, "", s)
      f = $0; sub(/.*function=.0x/, "", f); sub(/[^0-9a-f].*/, "", f)
      pci = sprintf("%s:%s:%s.%s", d, b, s, f)
    }
    inif && /<\/source>/ { insrc = 0 }
    inif && /<\/interface>/ { print mac, pci; inif = 0 }'
}
# pf_and_index PCI: "PF INDEX" of a VF
pf_and_index() {
  local pf k
  pf=$(netdev_of "$(basename "$(readlink -f "/sys/bus/pci/devices/$1/physfn")")")
  for k in /sys/bus/pci/devices/"$1"/physfn/virtfn*; do
    [ "$(basename "$(readlink -f "$k")")" = "$1" ] && { echo "$pf ${k##*virtfn}"; return 0; }
  done
  fail "$1 is not a VF of any PF"
}
# start_hook_ms NAME LOGFILE [SCRIPT [EVENTS]]: the ms of NAME's start hooks in LOGFILE (of
# vfhook or SCRIPT; EVENTS a regex of OP names, default prepare|start|started)
start_hook_ms() {
  "$timing" "$2" | awk -v d="$1" -v s="${3:-vfhook}" -v e="^(${4:-prepare|start|started})/" \
    '$1 == "hook" && $2 == d && $3 == s && $4 ~ e { t += $5 } END { print t + 0 }'
}

step "baseline: storm1 alone"
mark=$(log_size "$log")
t0=$(date +%s%N)
out=$(virsh start storm1 2>&1) || fail "virsh start storm1 failed: $out"
alone_wall=$((($(date +%s%N) - t0) / 1000000))
virsh destroy storm1 >/dev/null
log_since "$log" "$mark" >/tmp/lab-18-alone.log
alone_hooks=$(start_hook_ms storm1 /tmp/lab-18-alone.log)
alone_exec=$(start_hook_ms storm1 /tmp/lab-18-alone.log lab-exec-baseline)
alone_prepare=$(start_hook_ms storm1 /tmp/lab-18-alone.log vfhook prepare)
info "storm1 alone: virsh start ${alone_wall} ms wall, vfhook's hooks ${alone_hooks} ms, the do-nothing hook's ${alone_exec} ms (libvirtd's log)"
[ "$(all_state)" = "$before" ] || fail "storm1's VFs are not as before after its destroy"

step "the storm: virsh start storm1..storm$guests at once"
mark=$(log_size "$log")
t0=$(date +%s%N)
for ((g = 1; g <= guests; g++)); do
  (virsh start "storm$g" >"/tmp/lab-storm$g.out" 2>&1; echo $? >"/tmp/lab-storm$g.rc") &
done
wait
storm_wall=$((($(date +%s%N) - t0) / 1000000))
for ((g = 1; g <= guests; g++)); do
  [ "$(cat "/tmp/lab-storm$g.rc")" = 0 ] || fail "virsh start storm$g failed: $(cat "/tmp/lab-storm$g.out")"
done
log_since "$log" "$mark" >/tmp/lab-18-storm.log
cp /tmp/lab-18-storm.log "$LAB_RESULTS/18-libvirtd-storm.log" 2>/dev/null || true
info "all $guests started in ${storm_wall} ms wall"

step "each guest runs and holds 2 VFs, no VF twice, each claimed and configured"
: >/tmp/lab-18-vfs
for ((g = 1; g <= guests; g++)); do
  name=storm$g
  # The lab's firmware-reset flake (see start_guest) ends a guest after its start succeeded;
  # its hooks ran and released: say so, it holds no VF to check.
  if not_running "$name"; then
    info "$name is not running although its start succeeded (the firmware-reset flake?): skipped"
    continue
  fi
  ports=$(live_ports "$name")
  [ "$(wc -l <<<"$ports")" = 2 ] || fail "$name's running XML has not 2 VF ports: $ports"
  while read -r mac pci; do
    read -r pf idx <<<"$(pf_and_index "$pci")"
    echo "$pci $name" >>/tmp/lab-18-vfs
    expect_vf "$pf" "$idx" "link/ether $mac "
    expect_vf "$pf" "$idx" ", vlan ${vlan_of[$mac]:?no VLAN recorded for $mac}[,]"
    driver_is "$pci" vfio-pci || fail "$pci of $name is on $(driver_of "$pci")"
    status_has "\"address\":\"$pci\",\"driver\":\"vfio-pci\",\"use\":\"claimed\",\"domain\":\"$name\"" ||
      fail "vfctl status does not show $pci claimed by $name"
    info "$name: $mac on $pf VF $idx ($pci) VLAN ${vlan_of[$mac]}"
  done <<<"$ports"
done
dups=$(awk '{print $1}' /tmp/lab-18-vfs | sort | uniq -d)
[ -z "$dups" ] || fail "VFs given twice: $dups ($(grep -F "$dups" /tmp/lab-18-vfs | tr '\n' ';'))"
info "$(wc -l </tmp/lab-18-vfs) VFs, pairwise different"

step "hook time of each start (prepare + start + started, libvirtd's log)"
slowest=0 slowest_name="" slowest_exec=0 slowest_prepare=0
for ((g = 1; g <= guests; g++)); do
  ms=$(start_hook_ms "storm$g" /tmp/lab-18-storm.log)
  exec_ms=$(start_hook_ms "storm$g" /tmp/lab-18-storm.log lab-exec-baseline)
  prepare_ms=$(start_hook_ms "storm$g" /tmp/lab-18-storm.log vfhook prepare)
  info "storm$g: vfhook $ms ms (prepare $prepare_ms ms), do-nothing hook $exec_ms ms"
  if [ "$ms" -gt "$slowest" ]; then slowest=$ms slowest_name=storm$g slowest_exec=$exec_ms; fi
  if [ "$prepare_ms" -gt "$slowest_prepare" ]; then slowest_prepare=$prepare_ms; fi
done
"$timing" /tmp/lab-18-storm.log | grep -c '^hook storm[0-9]* vfhook ' >/dev/null ||
  fail "no vfhook hook call of the storm in libvirtd's log"

step "destroy all at once: every VF as before and free"
for ((g = 1; g <= guests; g++)); do (virsh destroy "storm$g" >/dev/null 2>&1 || true) & done
wait
for ((g = 1; g <= guests; g++)); do wait_for 30 "storm$g to stop" not_running "storm$g"; done
after=$(all_state)
[ "$after" = "$before" ] || fail "the VFs are not as before: $(diff <(echo "$before") <(echo "$after") | tr '\n' ';')"
while read -r pci name; do
  status_has "\"address\":\"$pci\",\"driver\":\"vfio-pci\",\"use\":\"reserved\",\"domain\":\"$name\"" ||
    status_has "\"address\":\"$pci\",\"driver\":\"vfio-pci\",\"use\":\"free\"" ||
    fail "$pci is neither free nor only reserved for $name after the stop"
done </tmp/lab-18-vfs

echo "STORM guests=$guests vfs=$(wc -l </tmp/lab-18-vfs) wall_ms=$storm_wall slowest_start_hooks_ms=$slowest ($slowest_name; do-nothing hook $slowest_exec) alone_start_hooks_ms=$alone_hooks (do-nothing hook $alone_exec) slowest_prepare_ms=$slowest_prepare alone_prepare_ms=$alone_prepare alone_wall_ms=$alone_wall ratio_slowest_to_alone=$(awk -v a="$slowest" -v b="$alone_hooks" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }')" |
  tee "$LAB_RESULTS/18-figures.txt" | sed 's/^/         /'
for ((g = 1; g <= guests; g++)); do remove_guest "storm$g"; done
step "PASS"

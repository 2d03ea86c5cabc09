#!/bin/bash
# Inside the lab host (run by bench/lab-start-bench through lab-run): time `virsh start`
# (returns once the guest runs) of a guest with two VF ports, BENCH_RUNS times each:
#   prebound: <interface type='hostdev' managed='no'> on VFs already on vfio-pci, with vfhook
#             and port records (BENCH_HOOK=1), or libvirt alone (BENCH_HOOK=0);
#   managed:  libvirt's managed='yes' on VFs that sit on igbvf (libvirt rebinds each time).
# Prints: BENCH <case> runs=N median_ms=M all_ms=a,b,c
. "$(dirname "$0")/lib/lab.sh"
runs=${BENCH_RUNS:-5}
pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF"
lab_pf_setup "$pf" 7
vf1=$(vf_pci "$pf" 1) vf2=$(vf_pci "$pf" 2) vf3=$(vf_pci "$pf" 3) vf4=$(vf_pci "$pf" 4)
mac1=52:54:00:be:00:01 mac2=52:54:00:be:00:02 mac3=52:54:00:be:00:03 mac4=52:54:00:be:00:04
meta=""
if [ "${BENCH_HOOK:-1}" = 1 ]; then
  vfhook_install
  vfhook_default_config "$pf"
  meta=$(ports_metadata "$(port_record $mac1 provider 110)" "$(port_record $mac2 provider 120)")
fi
bind_vfio "$vf1"
bind_vfio "$vf2"
define_guest bench-prebound "$(l2_xml bench-prebound "$(vf_port $mac1 "$vf1" 110)$(vf_port $mac2 "$vf2" 120)" "$meta")"
define_guest bench-managed "$(l2_xml bench-managed "$(hostdev_iface $mac3 "$vf3" yes "<vlan><tag id='110'/></vlan>")$(hostdev_iface $mac4 "$vf4" yes "<vlan><tag id='120'/></vlan>")")"

measure() { # NAME: start/destroy $runs times; print the BENCH line
  local name=$1 i t0 t1 all=() median
  for ((i = 0; i < runs; i++)); do
    t0=$(date +%s%N)
    start_guest "$name"
    t1=$(date +%s%N)
    all+=($(((t1 - t0) / 1000000)))
    virsh destroy "$name" >/dev/null
    wait_for 30 "$name to stop" not_running "$name"
    sleep 1
  done
  median=$(printf '%s\n' "${all[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}')
  echo "BENCH ${name#bench-} runs=$runs median_ms=$median all_ms=$(IFS=,; echo "${all[*]}")"
}
step "prebound (managed='no', hook=${BENCH_HOOK:-1}) x $runs"
measure bench-prebound
step "managed='yes' x $runs"
measure bench-managed
remove_guest bench-prebound
remove_guest bench-managed

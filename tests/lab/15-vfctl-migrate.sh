#!/bin/bash
# vfhook scenario 15 (lab-run --hosts 2): migration between two hosts on one provider segment.
# A DHCP server on VLAN 110 hands out only what `vfctl dhcp-hosts` exported; it runs on host b,
# on a VF of b's PF (outside the pool), as a server elsewhere on the provider network would.
#  1. a guest on host a with a teamed VF port on VLAN 110 (virtio standby with the same MAC)
#     gets its reserved IP by DHCP;
#  2. `virsh migrate --live` of a guest with a plain VF is refused by libvirt/QEMU on host a;
#     of the teamed guest (pool without failover on b) by vfhook's hook on b, with our message;
#     both keep running on a;
#  3. `vfctl migrate --cold` moves the teamed guest to b (which has fewer VFs: its VF address
#     does not exist there): a new VF, the same MAC, VLAN, guest NIC name and IP; a's VF is
#     restored and free;
#  4. with failover = true in the pools, `vfctl migrate --live` moves it back from b to a while
#     a third party on the segment (b's probe NIC, off both igb NICs) pings it every 0.2 s: it
#     keeps running and keeps its IP; b's VF is parked once the guest let go of it; the VF is
#     re-plugged on a; the move's timeline and the unanswered pings are printed;
#  5. `virsh save` of the teamed guest waits for an unplug the paused guest never does (libvirt
#     pauses before it saves); domjobabort gives the running guest back with its VF.
#  6. `vfctl migrate --live` of a guest whose VF port is not teamed but which has a virtio NIC:
#     the VF is detached on a, the guest migrates on its virtio path, b's hooks give it a
#     free VF of b's pool and vfctl attaches it there with the same MAC, VLAN and alias.
. "$(dirname "$0")/lib/lab.sh"

[ "${LAB_HOSTS:-1}" = 2 ] || fail "this scenario needs two hosts (lab-run --hosts 2)"
role=${LAB_ROLE:-a}
mac=52:54:00:aa:15:01 ip=10.77.110.50 mac3=52:54:00:aa:15:03 uri_a=qemu+tcp://lab-host-a/system uri_b=qemu+tcp://lab-host-b/system
hostsfile=$LAB_SYNC/15-dhcp-hosts
pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF on host $role"

# The teamed guest: a virtio NIC on the provider VLAN (macvtap on PF.110: the standby) and the
# VF (the primary), one MAC. See lab_provider_vlan for what the emulated igb makes of it.
mover_xml() { # VF_PCI
  l2_xml mover "<interface type='direct'><mac address='$mac'/><source dev='$pf.110' mode='bridge'/>\
<model type='virtio'/><teaming type='persistent'/><alias name='ua-net0'/></interface>\
$(hostdev_iface "$mac" "$1" no "<vlan><tag id='110'/></vlan><teaming type='transient' persistent='ua-net0'/><alias name='ua-vf0'/>")" \
    "$(ports_metadata "$(port_record $mac provider 110 "ip=\"$ip\"")")" \
    "lab.dhcp=1 lab.hold=forever lab.watch=1"
}
set_failover() { # true|false
  vfhook_default_config "$pf" "failover = $1${vf_range:+
vf_range = \"$vf_range\"}"
}
vf_range=""
lab_mgmt_up
lab_libvirt_tcp
vfhook_install
mkdir -p "$L2_LOGS"

if [ "$role" = b ]; then
  b_signals_failure
  # What the DHCP server saw, however the scenario ends.
  trap 'rc=$?; [ $rc -eq 0 ] || touch "$LAB_SYNC/$lab_scenario-b-failed"
    info "DHCP server VF ${server:-?} rx/tx packets: $(cat /sys/class/net/${server:-none}/statistics/rx_packets 2>/dev/null)/$(cat /sys/class/net/${server:-none}/statistics/tx_packets 2>/dev/null)"
    [ -f "$L2_LOGS/dnsmasq.log" ] && tail -n 15 "$L2_LOGS/dnsmasq.log" | sed "s/^/           dnsmasq| /"
    exit $rc' EXIT
  # b has 4 VFs, a has 7: the guest's VF on a (index 5) has no namesake here. VF 3 is the DHCP
  # server's, outside the pool.
  lab_pf_setup "$pf" 4
  vf_range=0-2
  set_failover false
  lab_provider_vlan "$pf" 110
  server=$(lab_vf_host "$pf" 3 110 10.77.110.2/24)
  # The pings across the live move come from the probe NIC, a third party on the segment: a
  # sender on either host's NIC would meet that NIC's own switching of the guest's MAC.
  lab_probe_netns 110 10.77.110.3/24
  sync_flag b-ready
  wait_flag dhcp-hosts 600
  cp "$hostsfile" /run/lab-dhcp-hosts
  info "DHCP reservations from host a: $(tr '\n' ' ' </run/lab-dhcp-hosts)"
  lab_dnsmasq "$server" /run/lab-dhcp-hosts 10.77.110.0
  sync_flag dhcp-ready

  wait_flag moved-to-b 900
  step "host b: the guest arrived cold"
  state_is mover running || fail "mover is not running on host b"
  line=$(wait_serial mover '^LAB-DHCP ' 180)
  info "mover on b: $line"
  echo "$line" | grep -q "result=ok addr=$ip/24" || fail "mover did not get $ip on host b: $line"
  echo "$line" >"$LAB_SYNC/15-dhcp-on-b"
  vf_b=$(virsh dumpxml mover | grep -A6 "<interface type='hostdev'" | sed -n "s/.*<address type='pci' domain='0x\(....\)' bus='0x\(..\)' slot='0x\(..\)' function='0x\(.\)'.*/\1:\2:\3.\4/p" | head -1)
  info "mover's VF on b: $vf_b"
  index_b=""
  for i in 0 1 2 3; do [ "$(vf_pci "$pf" $i)" = "$vf_b" ] && index_b=$i; done
  [ -n "$index_b" ] || fail "mover's VF $vf_b is not a VF of $pf on host b"
  expect_vf "$pf" "$index_b" "link/ether $mac .*vlan 110"

  step "host b: failover = true on both hosts; live migration back to a, pinging $ip"
  set_failover true
  sync_flag failover-on
  wait_flag a-failover-on 120
  # The timeline of the move (printed by host a): which VFs carry the guest's MAC on each host,
  # the guest's LAB- lines on each host, vfctl's steps, against the pings' start.
  timeline=$LAB_SYNC/15-timeline-b
  : >"$timeline"
  lab_vf_mac_timeline "$pf" "$mac" "$timeline" &
  mac_sampler=$!
  lab_serial_timeline mover "$timeline" &
  serial_sampler=$!
  lab_libvirt_event_timeline mover "$timeline" &
  event_sampler=$!
  lab_qemu_event_timeline mover MIGRATION "$timeline" &
  qemu_sampler=$!
  lab_rx_timeline mover "$timeline" &
  rx_sampler=$!
  date +%s.%N >"$LAB_SYNC/15-ping-start"
  ip netns exec probe busybox ping -i 0.2 "$ip" >/tmp/ping-across.log 2>&1 &
  ping_pid=$!
  sleep 3
  t0=$SECONDS
  printf '%s b vfctl migrate --live begins\n' "$(date +%s.%N)" >>"$timeline"
  out=$(vfctl migrate mover "$uri_a" --live 2>&1) || { echo "$out"; kill $ping_pid; fail "vfctl migrate --live failed"; }
  printf '%s b vfctl migrate --live returned\n' "$(date +%s.%N)" >>"$timeline"
  move_seconds=$((SECONDS - t0))
  info "vfctl migrate --live took $move_seconds s:"
  echo "$out" | sed 's/^/           | /'
  sleep 10
  ping_end=$(date +%s.%N)
  kill -INT $ping_pid; wait $ping_pid 2>/dev/null || true
  stop_timeline $mac_sampler $serial_sampler $event_sampler $qemu_sampler $rx_sampler
  # b's VF lost the guest's MAC once the guest had let go of it, while the guest still ran here
  # on its standby: before libvirt stopped the source's QEMU (whose release restores the VF).
  echo "$out" | grep -q "the guest let go of VF $vf_b (QEMU copies its memory now): parked with MAC" ||
    fail "vfctl did not park VF $vf_b once the guest let go of it"
  parked_at=$(awk '/ b mac on VFs: none$/ { print $1; exit }' "$timeline")
  stopped_at=$(awk "/ b libvirt: 'lifecycle' for domain 'mover': Stopped/ { print \$1; exit }" "$timeline")
  [ -n "$parked_at" ] && [ -n "$stopped_at" ] && awk -v p="$parked_at" -v s="$stopped_at" 'BEGIN { exit !(p < s) }' ||
    fail "VF $index_b kept the guest's MAC until the source's QEMU ended (parked at ${parked_at:-never}, stopped at ${stopped_at:-?})"
  ping_start=$(cat "$LAB_SYNC/15-ping-start")
  summary=$(grep 'packets transmitted' /tmp/ping-across.log)
  sent=$(echo "$summary" | sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p')
  received=$(echo "$summary" | sed -n 's/.*, \([0-9]*\) packets received.*/\1/p')
  [ "${sent:-0}" -gt 0 ] || fail "busybox ping sent nothing: $(tail -3 /tmp/ping-across.log)"
  # busybox ping sends every 0.2 s as best it can; on a busy TCG host it falls behind, so a
  # request's time is estimated from the run's own rate: start + seq * (end - start) / sent.
  # Each run of unanswered requests: "FIRST LAST FROM_S TO_S" (seconds since the first ping).
  gaps=$(awk -v n="$sent" -v dt="$(awk -v a="$ping_start" -v b="$ping_end" -v n="$sent" 'BEGIN { printf "%.6f", (b - a) / n }')" \
    -F'seq=' '/bytes from/ { split($2, a, " "); seen[a[1]] = 1 }
    END { from = -1
          for (i = 0; i <= n; i++) {
            if (i < n && !(i in seen)) { if (from < 0) from = i }
            else if (from >= 0) { printf "%d %d %.1f %.1f\n", from, i - 1, from * dt, i * dt; from = -1 } } }' \
    /tmp/ping-across.log)
  echo "$gaps" | awk -v t0="$ping_start" 'NF == 4 { printf "%.3f probe ping: no reply to seq %d-%d (%d requests)\n", t0 + $3, $1, $2, $2 - $1 + 1 }' >>"$timeline"
  lost=$(echo "$gaps" | awk 'NF == 4 { printf "%s%d at %s-%ss", (n++ ? ", " : ""), $2 - $1 + 1, $3, $4 }')
  info "ping across the move: $summary; unanswered: ${lost:-none} (the move: 3.0-$((3 + move_seconds)).0s)"
  summary="$((sent - received)) of $sent echo requests unanswered (${lost:-none}); the move: 3-$((3 + move_seconds)) s"
  echo "$summary" >"$LAB_SYNC/15-ping"
  [ "${received:-0}" -gt 0 ] || fail "no ping reply from $ip across the live move"
  # The move must end with the guest answering: one of the last 10 requests (2 s) at least.
  last_reply=$(awk -F'seq=' '/bytes from/ { split($2, a, " "); if (a[1] + 0 > m) m = a[1] + 0 } END { print m + 0 }' /tmp/ping-across.log)
  [ "$last_reply" -ge $((sent - 10)) ] ||
    fail "the guest stopped answering b's pings after the live move (the last reply was to seq $last_reply of $sent)"
  not_running mover || fail "mover still runs on host b after the live move"
  [ -z "$(vfctl --json status | tr -d ' \n' | grep -o '"domain":"mover"')" ] ||
    fail "host b still holds a VF for mover"
  expect_vf "$pf" "$index_b" "link/ether 02:00:00:"
  [ "$(vf_vlan "$pf" "$index_b")" = 0 ] || fail "VF $index_b kept its VLAN after the move"
  sync_flag moved-to-a

  wait_flag reattach-moved 900
  step "host b: 6. the guest moved live by detach, migrate, attach"
  state_is reattach running || fail "reattach is not running on host b"
  expect_nic_added reattach "$mac3" 120
  # The running definition's hostdev interface, whole (its <source> address is the VF).
  iface=$(virsh dumpxml reattach | awk "/<interface type='hostdev'/ { on = 1 } on { print } /<\/interface>/ { on = 0 }")
  vf_r=$(echo "$iface" | sed -n '/<source>/,/<\/source>/p' | sed -n "s/.*<address type='pci' domain='0x\(....\)' bus='0x\(..\)' slot='0x\(..\)' function='0x\(.\)'.*/\1:\2:\3.\4/p" | head -1)
  if ! echo "$iface" | grep -q "alias name='ua-vf1'"; then
    echo "$iface" | sed 's/^/           | /'
    fail "the re-attached VF has lost its alias ua-vf1 (its running XML above)"
  fi
  index_r=""
  for i in 0 1 2; do [ "$(vf_pci "$pf" $i)" = "$vf_r" ] && index_r=$i; done
  [ -n "$index_r" ] || fail "reattach's VF $vf_r is not a VF of b's pool (VFs 0-2 of $pf)"
  expect_vf "$pf" "$index_r" "link/ether $mac3 .*vlan 110"
  driver_is "$vf_r" vfio-pci || fail "$vf_r is on $(driver_of "$vf_r")"
  status_has '"domain":"reattach"' || fail "host b holds no VF for reattach"
  info "reattach on b: VF $index_r ($vf_r), MAC $mac3, VLAN 110, alias ua-vf1"
  remove_guest reattach
  sync_flag reattach-checked
  wait_flag a-done 600
  kill "$(cat /run/lab-dnsmasq.pid)" 2>/dev/null || true
  step "PASS"
  exit 0
fi

a_signals_done
lab_pf_setup "$pf" 7
set_failover false
lab_provider_vlan "$pf" 110
wait_flag b-ready 600

vf=$(vf_pci "$pf" 5)
define_guest mover "$(mover_xml "$vf")"
step "host a: DHCP reservations for host b's server"
vfctl dhcp-hosts --format dnsmasq-hostsfile --write "$hostsfile" || fail "vfctl dhcp-hosts failed"
grep -q "$mac,$ip" "$hostsfile" || fail "no reservation for $mac in: $(cat "$hostsfile")"
sync_flag dhcp-hosts
wait_flag dhcp-ready 300

step "host a: 1. start 'mover' (VF 5 teamed with a virtio standby, VLAN 110) and DHCP"
start_guest mover
line=$(wait_serial mover '^LAB-DHCP ' 180)
info "mover on a: $line"
echo "$line" | grep -q "result=ok addr=$ip/24" || fail "mover did not get $ip by DHCP: $line"
nic_a=$(echo "$line" | sed -n 's/.*dev=\([^ ]*\).*/\1/p')
expect_vf "$pf" 5 "link/ether $mac .*vlan 110"

step "host a: 2a. virsh migrate --live of a guest with a plain VF (libvirt/QEMU decide, on a)"
define_guest plain "$(l2_xml plain "$(vf_port 52:54:00:aa:15:02 "$(vf_pci "$pf" 3)" 120)" \
  "$(ports_metadata "$(port_record 52:54:00:aa:15:02 provider 120)")")"
start_guest plain
if out=$(virsh migrate --live --persistent --undefinesource plain "$uri_b" 2>&1); then
  fail "libvirt migrated a guest with a plain VF live: $out"
fi
info "refused: $out"
state_is plain running || fail "plain stopped after the refused migration"
if out=$(virsh save plain /var/tmp/plain.save 2>&1); then fail "libvirt saved a guest with a plain VF"; fi
info "virsh save refused: $out"
state_is plain running || fail "plain stopped after the refused save"
remove_guest plain

step "host a: 2b. virsh migrate --live of the teamed guest (b's pool has failover = false)"
t0=$SECONDS
if out=$(virsh migrate --live --persistent --undefinesource mover "$uri_b" 2>&1); then
  fail "the live migration to a pool without failover went through: $out"
fi
info "refused after $((SECONDS - t0)) s: $out"
echo "$out" | grep -q "vfhook" || fail "the refusal is not vfhook's: $out"
echo "$out" | grep -q "vfctl migrate mover" || fail "the refusal does not say what to do: $out"
state_is mover running || fail "mover stopped after the refused live migration"

step "host a: 3. vfctl migrate --cold to b (shutdown; the L2 init ignores ACPI, so --force-off)"
t0=$SECONDS
out=$(vfctl migrate mover "$uri_b" --cold --shutdown --shutdown-timeout 5 --force-off 2>&1) ||
  { echo "$out"; fail "vfctl migrate --cold failed"; }
info "vfctl migrate --cold took $((SECONDS - t0)) s:"
echo "$out" | sed 's/^/           | /'
echo "$out" | grep -q "$vf here ->" || fail "vfctl did not report the old VF $vf"
virsh domstate mover >/dev/null 2>&1 && fail "mover is still defined on host a"
expect_vf "$pf" 5 "link/ether 02:00:00:"
[ "$(vf_vlan "$pf" 5)" = 0 ] || fail "VF 5 kept VLAN $(vf_vlan "$pf" 5) after the move"
status_has '"domain":"mover"' && fail "host a still holds VF 5 for mover"
sync_flag moved-to-b
wait_flag failover-on 900
line_b=$(cat "$LAB_SYNC/15-dhcp-on-b")
nic_b=$(echo "$line_b" | sed -n 's/.*dev=\([^ ]*\).*/\1/p')
[ "$nic_a" = "$nic_b" ] || fail "the guest's NIC was $nic_a on a and is $nic_b on b"
info "same guest NIC ($nic_a) and IP ($ip) on both hosts"

step "host a: 4. failover = true; waiting for b's live migration back"
set_failover true
timeline=/tmp/15-timeline-a
: >"$timeline"
lab_vf_mac_timeline "$pf" "$mac" "$timeline" &
mac_sampler=$!
mkdir -p "$L2_LOGS"; touch "$L2_LOGS/mover.serial"
lab_serial_timeline mover "$timeline" &
serial_sampler=$!
lab_libvirt_event_timeline mover "$timeline" &
event_sampler=$!
lab_rx_timeline mover "$timeline" &
rx_sampler=$!
sync_flag a-failover-on
wait_flag moved-to-a 900
state_is mover running || fail "mover does not run on host a after the live move"
expect_nic_added mover "$mac" 120
sleep 1
stop_timeline $mac_sampler $serial_sampler $event_sampler $rx_sampler
info "the move's timeline (L1 wall clocks; 0 = the probe's first ping, one every 0.2 s):"
print_timeline "$(cat "$LAB_SYNC/15-ping-start")" "$timeline" "$LAB_SYNC/15-timeline-b"
line=$(wait_serial mover '^LAB-IP-NOW ' 30)
echo "$line" | grep -q "dev=eth0 addr=$ip/24" || fail "mover lost its address across the live move: $line"
info "inside the guest after the move: $line"
vf_now=$(virsh dumpxml mover | grep -A6 "<interface type='hostdev'" | sed -n "s/.*<address type='pci' domain='0x\(....\)' bus='0x\(..\)' slot='0x\(..\)' function='0x\(.\)'.*/\1:\2:\3.\4/p" | head -1)
info "mover's VF on a after the live move: $vf_now; pings from the probe: $(cat "$LAB_SYNC/15-ping")"
status_has '"domain":"mover"' || fail "host a holds no VF for mover after the live move"
vf_config=$(virsh dumpxml --inactive mover | grep -A6 "<interface type='hostdev'" | sed -n "s/.*<address type='pci' domain='0x\(....\)' bus='0x\(..\)' slot='0x\(..\)' function='0x\(.\)'.*/\1:\2:\3.\4/p" | head -1)
[ "$vf_config" = "$vf_now" ] ||
  fail "mover's definition on a names $vf_config, the running guest has $vf_now (libvirt keeps the source's definition; vfctl must point it here)"

step "host a: 5. virsh save of the teamed guest: what libvirt and QEMU do"
# libvirt pauses a guest before it saves it, and QEMU then waits for the guest to unplug its
# failover VF, which a paused guest never does: the save waits until domjobabort.
virsh save mover /var/tmp/mover.save >/tmp/save.out 2>&1 &
save_pid=$!
sleep 30
if ! kill -0 $save_pid 2>/dev/null; then
  wait $save_pid && fail "virsh save of the teamed guest finished: $(cat /tmp/save.out) (this scenario expects libvirt's save to wait for the unplug: update it)"
  fail "virsh save of the teamed guest failed at once: $(cat /tmp/save.out)"
fi
info "after 30 s: state '$(domain_state mover)'; job: $(virsh domjobinfo mover 2>/dev/null | grep -E 'Job type|Memory processed' | tr -s ' ' | tr '\n' ';')"
tr -d '\r' <"$L2_LOGS/mover.serial" | grep -aq '^LAB-NIC-REMOVED' && fail "the paused guest unplugged its VF"
virsh domjobabort mover >/dev/null 2>&1 || fail "virsh domjobabort mover failed"
wait $save_pid && fail "the aborted save reported success"
info "virsh save after domjobabort: $(tr '\n' ' ' </tmp/save.out)"
wait_for 30 "mover running again after the aborted save" state_is mover running
status_has '"use":"claimed","domain":"mover"' || status_has '"domain":"mover"' ||
  fail "mover lost its VF after the aborted save"
rm -f /var/tmp/mover.save
remove_guest mover
step "host a: mover's story in the journal (journalctl -t vfhook DOMAIN=mover)"
story=$(journalctl -t vfhook DOMAIN=mover --no-pager -o short-monotonic 2>&1 | tail -n 25)
echo "$story" | sed 's/^/           | /'
[ -n "$(journalctl -t vfhook DOMAIN=mover OUTCOME=claimed --no-pager -o cat 2>/dev/null)" ] ||
  fail "the journal has no OUTCOME=claimed entry for mover"
# The hook on a reserved the VF when the guest arrived; the domain is gone now: gc drops that.
vfctl gc | sed 's/^/           | /'
status_has '"domain":"mover"' && fail "host a still holds a VF for mover after its removal"

step "host a: 6. vfctl migrate --live of a guest with a plain VF port and a virtio NIC"
vf4=$(vf_pci "$pf" 4)
define_guest reattach "$(l2_xml reattach "<interface type='direct'><mac address='52:54:00:aa:15:04'/>\
<source dev='$pf.110' mode='bridge'/><model type='virtio'/></interface>\
$(hostdev_iface "$mac3" "$vf4" no "<vlan><tag id='110'/></vlan><alias name='ua-vf1'/>")" \
  "$(ports_metadata "$(port_record $mac3 provider 110)")" "lab.hold=forever lab.watch=1")"
start_guest reattach
expect_nic reattach "$mac3" 180
t0=$SECONDS
out=$(vfctl migrate reattach "$uri_b" --live 2>&1) || { echo "$out"; fail "vfctl migrate --live (detach, migrate, attach) failed"; }
info "vfctl migrate --live took $((SECONDS - t0)) s:"
echo "$out" | sed 's/^/           | /'
expect_nic_removed reattach "$mac3" 5
virsh domstate reattach >/dev/null 2>&1 && fail "reattach is still defined on host a"
expect_vf "$pf" 4 "link/ether 02:00:00:"
[ "$(vf_vlan "$pf" 4)" = 0 ] || fail "VF 4 kept VLAN $(vf_vlan "$pf" 4) after the move"
status_has '"domain":"reattach"' && fail "host a still holds VF 4 for reattach"
sync_flag reattach-moved
wait_flag reattach-checked 600
step "PASS"

# Helpers for the lab scenarios, sourced by each scenario inside an L1 lab host (run by
# vm-images/run-inside with the working directory /lab/scenarios). Every check that fails
# calls fail(), which prints a clear message and exits non-zero.
# shellcheck shell=bash
set -euo pipefail
export LC_ALL=C
export LIBVIRT_DEFAULT_URI=qemu:///system

lab_t0=$SECONDS
step() { printf '[%4ds] == %s\n' $((SECONDS - lab_t0)) "$*"; }
info() { printf '         %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

L2_KERNEL=/var/lib/libvirt/images/l2-vmlinuz
L2_INITRD=/var/lib/libvirt/images/l2-initrd.img
L2_LOGS=/var/log/lab

# ---- PFs and VFs -----------------------------------------------------------------------

# The igb PFs of this host (PCI addresses, sorted): the first carries the VFs, a second one
# (lab-run --second-pf or --pfs 2) is for whole-PF passthrough; lab-run --pfs 3 adds a third
# (LAB_PFS says how many the host was given).
igb_pfs() {
  local d
  for d in /sys/bus/pci/devices/*; do
    [ -e "$d/sriov_totalvfs" ] || continue
    [ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x8086:0x10c9 ] || continue
    basename "$d"
  done | sort
}
pf_pci() { igb_pfs | sed -n 1p; }
pf2_pci() { igb_pfs | sed -n 2p; }
pf3_pci() { igb_pfs | sed -n 3p; }
# The netdev name of a PCI network function, e.g. enp1s0.
netdev_of() { ls "/sys/bus/pci/devices/$1/net" 2>/dev/null | head -1; }

# PF_IFNAME COUNT: (re)create COUNT VFs, wait until each has its PCI device.
vfs_create() {
  local pf=$1 n=$2 dev=/sys/class/net/$1/device i
  [ -e "$dev/sriov_numvfs" ] || fail "$pf is not an SR-IOV PF (no sriov_numvfs)"
  echo 0 >"$dev/sriov_numvfs"
  [ "$n" -eq 0 ] && return 0
  echo "$n" >"$dev/sriov_numvfs" || fail "cannot create $n VFs on $pf"
  for i in $(seq 0 $((n - 1))); do
    wait_for 10 "VF $i of $pf" test -e "$dev/virtfn$i"
  done
}
vf_count() { cat "/sys/class/net/$1/device/sriov_numvfs"; }
# PF_IFNAME INDEX -> the VF's PCI address
vf_pci() { basename "$(readlink -f "/sys/class/net/$1/device/virtfn$2")"; }
# PCI -> bound driver name, or "none"
driver_of() {
  local l
  l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) || { echo none; return; }
  basename "$l"
}
has_carrier() { [ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" = 1 ]; }
driver_is() { [ "$(driver_of "$1")" = "$2" ]; }
# PCI -> the <address type='pci' …/> element libvirt wants in a hostdev source
pci_xml() {
  local a=$1 dom bus slot fn
  dom=${a%%:*}; a=${a#*:}; bus=${a%%:*}; a=${a#*:}; slot=${a%%.*}; fn=${a#*.}
  printf "<address type='pci' domain='0x%s' bus='0x%s' slot='0x%s' function='0x%s'/>" \
    "$dom" "$bus" "$slot" "$fn"
}
# Bind a PCI function to vfio-pci by hand (driver_override + drivers_probe).
bind_vfio() {
  local pci=$1 d=/sys/bus/pci/devices/$1
  modprobe vfio-pci
  echo vfio-pci >"$d/driver_override"
  [ -e "$d/driver" ] && echo "$pci" >"$d/driver/unbind"
  echo "$pci" >/sys/bus/pci/drivers_probe
  [ "$(driver_of "$pci")" = vfio-pci ] || fail "$pci did not bind to vfio-pci"
}

# The VF table of a PF as `ip link show` prints it, one line per VF ("vf N link/ether …").
vf_table() { ip link show "$1" | sed -n 's/^ *\(vf [0-9].*\)$/\1/p'; }
vf_line() { vf_table "$1" | grep -E "^vf $2 " || fail "no VF $2 in 'ip link show $1'"; }
vf_mac() { vf_line "$1" "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
# PF INDEX -> the VLAN id (0 when none)
vf_vlan() { vf_line "$1" "$2" | sed -n 's/.*, vlan \([0-9]*\).*/\1/p' | grep . || echo 0; }
# PF INDEX REGEX: fail unless the VF's line matches
expect_vf() {
  local line
  line=$(vf_line "$1" "$2")
  echo "$line" | grep -Eq -- "$3" || fail "VF $2 of $1: expected /$3/ in: $line"
}
# The whole state a hook may touch on the VFs of a PF: table lines + each VF's driver.
vf_state() {
  local pf=$1 i n
  n=$(vf_count "$pf")
  vf_table "$pf"
  for ((i = 0; i < n; i++)); do echo "vf $i driver $(driver_of "$(vf_pci "$pf" "$i")")"; done
}

# ---- waiting -----------------------------------------------------------------------------

# wait_for SECONDS WHAT CMD...: poll CMD every 0.5 s until it succeeds or fail.
wait_for() {
  local t=$1 what=$2 end
  shift 2
  end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || fail "timed out after ${t}s waiting for $what"
    sleep 0.5
  done
}

# ---- L2 guests -----------------------------------------------------------------------

# l2_xml NAME DEVICES_XML [METADATA_XML] [KERNEL_ARGS] [MEMORY_MIB]: a tiny KVM guest: the
# host's kernel, the lab initramfs (guest-files/init), serial console to $L2_LOGS/NAME.serial.
# 192 MiB by default; the initramfs (about 1.3 MB) and kernel boot in 96, which lets the boot
# storm's 8 guests fit in the lab host's 2560 MiB (a VF guest's memory is all pinned).
l2_xml() {
  local name=$1 devices=$2 metadata=${3:-} args=${4:-lab.hold=forever} memory=${5:-192}
  mkdir -p "$L2_LOGS"
  cat <<XML
<domain type='kvm'>
  <name>$name</name>
  ${metadata:+<metadata>$metadata</metadata>}
  <memory unit='MiB'>$memory</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$L2_KERNEL</kernel>
    <initrd>$L2_INITRD</initrd>
    <cmdline>console=ttyS0 panic=-1 $args</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='usb' model='none'/>
    <serial type='file'><source path='$L2_LOGS/$name.serial'/><target port='0'/></serial>
    <memballoon model='none'/>
    $devices
  </devices>
</domain>
XML
}
# hostdev_iface MAC PCI [MANAGED] [EXTRA_XML]: an <interface type='hostdev'> on a VF
hostdev_iface() {
  printf "<interface type='hostdev' managed='%s'><mac address='%s'/><source>%s</source>%s</interface>" \
    "${3:-yes}" "$1" "$(pci_xml "$2")" "${4:-}"
}

# define_guest NAME XML: define it, clearing its previous serial log
define_guest() {
  local f=/tmp/lab-$1.xml
  printf '%s\n' "$2" >"$f"
  rm -f "$L2_LOGS/$1.serial"
  # A redefinition without a <uuid> would get a new one and clash with the defined domain.
  if virsh domstate "$1" >/dev/null 2>&1; then
    not_running "$1" || fail "define_guest $1: the domain is running"
    virsh undefine "$1" >/dev/null || fail "virsh undefine $1 failed"
  fi
  virsh define "$f" >/dev/null || fail "virsh define $1 failed (XML in $f)"
}
# start_guest NAME: virsh start, fail with libvirt's message
#
# Under TCG-emulated SVM an L2 guest now and then resets in its firmware, before its kernel
# prints a line (about 1 boot in 10 in this lab; libvirt then logs "reason=shutdown"). Such a
# start is retried, visibly, up to 3 times: a start that fails every time still fails.
start_guest() {
  local out attempt end log=$L2_LOGS/$1.serial
  for attempt in 1 2 3; do
    out=$(virsh start "$1" 2>&1) || fail "virsh start $1 failed: $out"
    end=$((SECONDS + 40))
    while [ $SECONDS -lt $end ]; do
      grep -aq 'Linux version' "$log" 2>/dev/null && return 0
      [ "$(domain_state "$1")" = "shut off" ] && break
      sleep 0.5
    done
    grep -aq 'Linux version' "$log" 2>/dev/null && return 0
    # Alive but slow: the scenario's own waits decide.
    [ "$(domain_state "$1")" = "shut off" ] || return 0
    info "L2 guest $1 reset before its kernel printed a line (start $attempt of 3; a lab flake, retrying)"
    : >"$log"
  done
  fail "L2 guest $1 reset before its kernel ran, 3 starts in a row"
}
# try_start NAME: virsh start; prints libvirt's error text, returns its status
try_start() { virsh start "$1" 2>&1 >/dev/null; }
domain_state() { virsh domstate "$1" 2>/dev/null | head -1; }
destroy_guest() { virsh destroy "$1" >/dev/null 2>&1 || true; }
remove_guest() { destroy_guest "$1"; virsh undefine "$1" >/dev/null 2>&1 || true; }

# wait_serial NAME REGEX SECONDS: wait for a line of the L2 serial console; prints it
wait_serial() {
  local name=$1 re=$2 t=$3 log=$L2_LOGS/$1.serial end
  end=$((SECONDS + t))
  while :; do
    if [ -f "$log" ] && tr -d '\r' <"$log" | grep -aE -- "$re" | head -1 | grep .; then return 0; fi
    # A guest that is gone will print nothing more: say so now, with libvirt's word on why.
    local state; state=$(domain_state "$name")
    if [ $SECONDS -ge $end ] || [ "$state" = "shut off" ]; then
      sleep 1
      if [ -f "$log" ] && tr -d '\r' <"$log" | grep -aE -- "$re" | head -1 | grep .; then return 0; fi
      echo "--- last lines of $log:" >&2
      tail -n 20 "$log" 2>/dev/null | tr -d '\r' | sed 's/^/    /' >&2 || true
      echo "--- last lines of /var/log/libvirt/qemu/$name.log:" >&2
      tail -n 15 "/var/log/libvirt/qemu/$name.log" 2>/dev/null | sed 's/^/    /' >&2 || true
      fail "no line /$re/ on $name's console within ${t}s (state: $state)"
    fi
    sleep 0.5
  done
}
# expect_nic NAME MAC SECONDS: the guest reports a NIC with that MAC and link up
expect_nic() {
  local line
  wait_serial "$1" '^LAB-L2-DONE' "$3" >/dev/null
  line=$(tr -d '\r' <"$L2_LOGS/$1.serial" | grep -a "^LAB-NIC .*mac=$2 ") ||
    fail "$1 has no NIC with MAC $2; it saw: $(tr -d '\r' <"$L2_LOGS/$1.serial" | grep -a '^LAB-NIC' | tr '\n' ';')"
  echo "$line" | grep -q 'link=up' || fail "$1: NIC $2 has no link: $line"
  info "$1: $line"
}

# ---- vfhook ----------------------------------------------------------------------------

VFHOOK_CONFIG=/etc/vfhook/vfhook.toml
VFHOOK_HOOK=/etc/libvirt/hooks/qemu.d/vfhook

# The confinement the running libvirtd is under ("libvirtd (enforce)"), from /proc.
libvirtd_confinement() {
  local pid
  pid=$(cat /run/libvirtd.pid 2>/dev/null) || return 1
  tr -d '\0' <"/proc/$pid/attr/current" 2>/dev/null
}
# Install vfhook once per boot: from the Debian package lab-run was given (--deb), as an
# operator does, else with `cmake --install` from the build tree lab-run showed at its own
# path (--build). Either way libvirtd must run confined by Debian's AppArmor profile: every
# scenario runs under it.
vfhook_install() {
  if [ ! -x "$VFHOOK_HOOK" ]; then
    if [ -n "${LAB_DEB:-}" ]; then
      # dpkg, not apt: the lab host has no mirror, and the image has every dependency.
      dpkg -i "$LAB_DEB" >/tmp/vfhook-install.log 2>&1 ||
        { cat /tmp/vfhook-install.log; fail "dpkg -i $LAB_DEB failed"; }
      [ -x "$VFHOOK_HOOK" ] || fail "the package did not install $VFHOOK_HOOK"
      # The postinst reloads libvirtd so that it sees the hook; it may still be reloading.
      wait_for 60 "libvirtd after the package's reload" virsh version
      info "vfhook installed from $(basename "$LAB_DEB") ($(dpkg-query -W -f='${Version}' vfhook))"
    else
      [ -n "${LAB_BUILD_DIR:-}" ] || fail "lab-run was given no vfhook package (--deb) or build tree (--build)"
      [ -f "$LAB_BUILD_DIR/CMakeCache.txt" ] || fail "$LAB_BUILD_DIR is not visible in the lab host"
      cmake --install "$LAB_BUILD_DIR" >/tmp/vfhook-install.log 2>&1 ||
        { cat /tmp/vfhook-install.log; fail "cmake --install $LAB_BUILD_DIR failed"; }
      [ -x "$VFHOOK_HOOK" ] ||
        fail "vfhook is not built yet: cmake --install did not install $VFHOOK_HOOK"
      # libvirt only runs qemu.d/ scripts it saw at its last start or reload.
      systemctl reload libvirtd || systemctl restart libvirtd
      wait_for 60 "libvirtd after reload" virsh version
      info "vfhook installed from $LAB_BUILD_DIR"
    fi
  fi
  local confinement
  confinement=$(libvirtd_confinement) || fail "cannot read libvirtd's AppArmor confinement"
  case "$confinement" in
    *"(enforce)") ;;
    *) fail "libvirtd is not confined by an enforced AppArmor profile ('$confinement'): the lab host must have apparmor (vm-images/host-packages)" ;;
  esac
  info "vfhook: $VFHOOK_HOOK; libvirtd under AppArmor: $confinement"
}
# vfhook_config TOML: write the hook's host config
vfhook_config() {
  mkdir -p "$(dirname "$VFHOOK_CONFIG")"
  printf '%s\n' "$1" >"$VFHOOK_CONFIG"
}
# The default config of the scenarios: one pool "provider" on PF $1.
# vfhook_default_config PF [EXTRA_TOML]: pool "provider" on PF; KEEP_IDLE=false in the
# environment releases idle VFs to their host driver instead of keeping them on vfio-pci.
vfhook_default_config() {
  vfhook_config "state_dir = \"/var/lib/vfhook\"
host_bridge_vlans = [\"1-99\"]
[[pool]]
name = \"provider\"
pfs = [\"$1\"]
vlans = [\"100-199\"]
allow_trust = true
allow_spoofchk_off = true
keep_idle_on_vfio = ${KEEP_IDLE:-true}${2:+
$2}"
}
# port_record MAC POOL VLAN [ATTRS]: one <vfhook:port> element
port_record() { printf '<vfhook:port mac="%s" pool="%s" vlan="%s"%s/>' "$1" "$2" "$3" "${4:+ $4}"; }
ports_metadata() { printf '<vfhook:ports xmlns:vfhook="urn:vfhook:ports:1">%s</vfhook:ports>' "$*"; }
# vf_port MAC PCI VLAN: the managed='no' interface of a vfhook port
vf_port() { hostdev_iface "$1" "$2" no "<vlan><tag id='$3'/></vlan>"; }
# A fresh PF for a scenario: COUNT VFs, all unused, PF up with carrier (igb refuses VF
# rates until its link is up at 1000 Mb/s, and a VF started before reads a random MAC).
# Every VF also gets a fixed admin MAC: with none, igb hands a VF a random MAC each time
# igbvf binds in the host, and "restored exactly" could never compare equal.
lab_pf_setup() {
  local pf=$1 n=${2:-7} i
  vfs_create "$pf" "$n"
  ip link set "$pf" up
  wait_for 20 "carrier on $pf" has_carrier "$pf"
  for ((i = 0; i < n; i++)); do
    # 02:00:00:<PF ifindex>:<host>:<VF>: the two hosts share one segment, and identical MACs on
    # it (same image, same ifindex) would have one host's NIC keep the other's frames.
    ip link set "$pf" vf "$i" mac "$(printf '02:00:00:%02x:%02x:%02x' "$(cat "/sys/class/net/$pf/ifindex")" "$([ "${LAB_ROLE:-a}" = b ] && echo 11 || echo 10)" "$i")"
  done
}

# ---- two hosts (lab-run --hosts 2: LAB_ROLE a / b, a shared /lab/sync) ------------------

lab_scenario=$(basename "$0" .sh)
sync_flag() { touch "${LAB_SYNC:?}/$lab_scenario-$1"; }
has_flag() { [ -e "${LAB_SYNC:?}/$lab_scenario-$1" ]; }
# wait_flag NAME SECONDS: wait for the other host's flag; fail at once when it failed.
wait_flag() {
  local end=$((SECONDS + $2)) other=b
  [ "${LAB_ROLE:-a}" = b ] && other=a
  until has_flag "$1"; do
    [ -e "$LAB_SYNC/$lab_scenario-$other-failed" ] && fail "host $other failed (see its log)"
    [ $SECONDS -lt $end ] || fail "timed out after $2s waiting for the other host's '$1'"
    sleep 0.5
  done
}

# Host b's part of a two-host scenario: an address on VLAN $1 of its PF, kept up until host a
# says it is done (or gave up).
serve_vlan_until_a_done() {
  local vlan=$1 addr=$2 pci pf
  pci=$(pf_pci); pf=$(netdev_of "$pci")
  [ -n "$pf" ] || fail "no igb PF on host b"
  step "host b: $addr on VLAN $vlan of $pf"
  ip link set "$pf" up
  ip link add link "$pf" name "$pf.$vlan" type vlan id "$vlan" || fail "cannot create VLAN $vlan on $pf"
  ip addr add "$addr" dev "$pf.$vlan"
  ip link set "$pf.$vlan" up
  sync_flag b-ready
  step "host b: waiting for host a"
  wait_flag a-done "${LAB_SCENARIO_TIMEOUT:-600}"
  [ -e "$LAB_SYNC/$lab_scenario-a-failed" ] && fail "host a failed (see its log)"
  step "host b: rx on $pf.$vlan: $(cat "/sys/class/net/$pf.$vlan/statistics/rx_packets") packets"
  step "PASS"
}
# Host b: tell a when this scenario fails on b (a's wait_flag gives up at once).
b_signals_failure() {
  trap 'rc=$?; [ $rc -eq 0 ] || touch "$LAB_SYNC/$lab_scenario-b-failed"; exit $rc' EXIT
}
# Host a: tell b when this scenario ends, however it ends.
a_signals_done() {
  trap 'rc=$?; [ $rc -eq 0 ] || touch "$LAB_SYNC/$lab_scenario-a-failed"; sync_flag a-done; exit $rc' EXIT
}
state_is() { [ "$(domain_state "$1")" = "$2" ]; }
not_running() { ! virsh list --name | grep -qx "$1"; }

# ---- hot-plug ----------------------------------------------------------------------------

# spare_root_ports N: N empty pcie-root-port controllers, for devices hot-plugged later (a
# q35 guest has no free hot-plug slot otherwise; libvirt adds ports only for defined devices)
spare_root_ports() {
  local i
  # An index is required: without one libvirt takes the first for index 0 (pcie-root).
  for ((i = 1; i <= $1; i++)); do printf "<controller type='pci' index='%d' model='pcie-root-port'/>" "$i"; done
}
# expect_nic_added NAME MAC SECONDS: a guest booted with lab.watch=1 reports a NIC with that
# MAC hot-plugged in, with link up
expect_nic_added() {
  local line
  line=$(wait_serial "$1" "^LAB-NIC-ADDED .*mac=$2 " "$3") || exit 1
  echo "$line" | grep -q 'link=up' || fail "$1: hot-plugged NIC $2 has no link: $line"
  info "$1: $line"
}
# expect_nic_removed NAME MAC SECONDS: ... and that NIC hot-unplugged
expect_nic_removed() {
  local line
  line=$(wait_serial "$1" "^LAB-NIC-REMOVED .*mac=$2\$" "$3") || exit 1
  info "$1: $line"
}

# ---- timelines (what happened when, across hosts: L1 wall clocks) ------------------------

# lab_vf_mac_timeline PF MAC OUT: until killed, "<epoch> <host> mac on VFs: <indices>" each time
# the set of PF's VFs whose admin MAC is MAC changes (sampled every 0.2 s).
lab_vf_mac_timeline() {
  local pf=$1 mac=$2 out=$3 last=x now
  while :; do
    now=$(vf_table "$pf" | sed -n "s/^vf \([0-9]*\) .*link\/ether $mac .*/\1/p" | tr '\n' ' ')
    [ "$now" = "$last" ] || printf '%s %s mac on VFs: %s\n' "$(date +%s.%N)" "${LAB_ROLE:-a}" "${now:-none}" >>"$out"
    last=$now
    sleep 0.2
  done
}
# lab_serial_timeline NAME OUT: until killed, "<epoch> <host> <line>" for each LAB- line the
# guest NAME prints on this host from now on.
lab_serial_timeline() {
  local log=$L2_LOGS/$1.serial out=$2 line
  # No tr in the pipe: it would hold the lines in its buffer (the loop strips the \r).
  tail -n 0 -F "$log" 2>/dev/null | grep -a --line-buffered '^LAB-' |
    while IFS= read -r line; do
      printf '%s %s %s\n' "$(date +%s.%N)" "${LAB_ROLE:-a}" "${line%$'\r'}" >>"$out"
    done
}
# lab_libvirt_event_timeline NAME OUT: until killed, "<epoch> <host> libvirt: <event>" for each
# lifecycle (and other) event libvirt reports for guest NAME on this host: when the source
# pauses, when the destination resumes.
lab_libvirt_event_timeline() {
  local line
  # Every domain's events, so that a guest that arrives by migration is seen from its start.
  virsh event --all --loop 2>/dev/null | grep -a --line-buffered "for domain '$1'" |
    while IFS= read -r line; do
      printf '%s %s libvirt: %s\n' "$(date +%s.%N)" "${LAB_ROLE:-a}" "${line#*event }" >>"$2"
    done
}
# lab_qemu_event_timeline NAME EVENT OUT: until killed, "<epoch> <host> qemu: <details>" for each
# QMP event EVENT (MIGRATION: setup, wait-unplug, active, completed) of guest NAME.
lab_qemu_event_timeline() {
  local line
  virsh qemu-monitor-event --event "$2" --loop 2>/dev/null | grep -a --line-buffered "for domain '$1'" |
    while IFS= read -r line; do
      printf '%s %s qemu: %s\n' "$(date +%s.%N)" "${LAB_ROLE:-a}" "$line" >>"$3"
    done
}
# lab_rx_timeline NAME OUT: until killed, "<epoch> <host> rx on <dev>: flowing|stopped" when the
# packets guest NAME's macvtap NICs receive start or stop arriving (sampled every 0.2 s; a
# pause shorter than 0.6 s is not reported). The NIC may appear only later (a migration's
# destination).
lab_rx_timeline() {
  local name=$1 out=$2 dev="" shown="" last=-1 now state=none quiet=0
  while :; do
    # (|| true: the samplers run under the scenario's errexit, and the guest may not be here.)
    [ -n "$dev" ] || dev=$(virsh domiflist "$name" 2>/dev/null | awk '$2 == "direct" { print $1; exit }') || true
    [ -z "$dev" ] || shown=$dev
    now=$(cat "/sys/class/net/${dev:-none}/statistics/rx_packets" 2>/dev/null || echo -1)
    if [ "$now" -ge 0 ] && [ "$now" != "$last" ] && [ "$last" -ge 0 ]; then
      quiet=0
      [ "$state" = flowing ] || { state=flowing; printf '%s %s rx on %s: flowing\n' "$(date +%s.%N)" "${LAB_ROLE:-a}" "$shown" >>"$out"; }
    else
      quiet=$((quiet + 1))
      [ "$state" != flowing ] || [ $quiet -lt 3 ] ||
        { state=stopped; printf '%s %s rx on %s: stopped%s\n' "$(date +%s.%N)" "${LAB_ROLE:-a}" "$shown" "$([ "$now" -ge 0 ] || echo ' (gone)')" >>"$out"; }
    fi
    last=$now
    # No NIC (yet): look again in a second, without loading the host with virsh every 0.2 s.
    if [ "$now" -lt 0 ]; then dev=""; sleep 1; else sleep 0.2; fi
  done
}
# stop_timeline PID...: stop those samplers and the pipelines they run
stop_timeline() {
  local p
  for p in "$@"; do
    pkill -P "$p" 2>/dev/null || true
    kill "$p" 2>/dev/null || true
  done
  return 0
}
# print_timeline T0 FILE...: the lines of FILEs in time order, as seconds since T0
print_timeline() {
  local t0=$1; shift
  sort -n "$@" | awk -v t0="$t0" '{ t = $1 - t0; $1 = ""; printf "           %+7.2fs%s\n", t, $0 }'
}

# ---- scenarios that reboot the lab host ----------------------------------------------------

# lab_reboot: reboot this L1 host; run-inside runs this scenario again after the boot, with
# lab_rebooted true. The disk keeps what the scenario wrote (a snapshot per QEMU, not per boot).
lab_reboot() {
  touch "${LAB_RESULTS:?}/$lab_scenario.rebooted"
  sync
  step "rebooting the lab host; the scenario goes on after the boot"
  systemctl reboot
  sleep infinity
}
lab_rebooted() { [ -e "${LAB_RESULTS:?}/$lab_scenario.rebooted" ]; }

# ---- vfctl -------------------------------------------------------------------------------

# json_field KEY: the first "KEY": value of vfctl's JSON on stdin (string quotes removed)
json_field() { sed -n "s/^ *\"$1\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" | head -1; }
# status_has TEXT: vfctl's JSON status, without spaces and newlines, contains TEXT
status_has() { local status; status=$(vfctl --json status | tr -d '\n '); [[ "$status" == *"$1"* ]]; }

# ---- two hosts: management network, libvirt remote access, DHCP --------------------------

lab_host_number() { case "${LAB_ROLE:-a}" in a) echo 1 ;; b) echo 2 ;; *) fail "unknown role ${LAB_ROLE:-}" ;; esac; }
# netdev_by_mac MAC: the netdev with that MAC
netdev_by_mac() {
  local n
  for n in /sys/class/net/*; do
    [ "$(cat "$n/address" 2>/dev/null)" = "$1" ] && { basename "$n"; return 0; }
  done
  return 1
}
# lab_mgmt_up: the management NIC lab-run gives two hosts, at 10.99.0.<1|2>/24; hostname
# lab-host-<role>, and both names in /etc/hosts: libvirt's migration connects to the
# destination by the name that host gives itself.
lab_mgmt_up() {
  local n nic other
  n=$(lab_host_number)
  other=$((3 - n))
  nic=$(netdev_by_mac "52:54:00:20:00:0$n") ||
    fail "no management NIC 52:54:00:20:00:0$n (vm-images/lab-run --hosts 2 adds it)"
  ip addr replace "10.99.0.$n/24" dev "$nic"
  ip link set "$nic" up
  hostname "lab-host-${LAB_ROLE:-a}"
  grep -q 'lab-host-a$' /etc/hosts || printf '10.99.0.1\tlab-host-a\n10.99.0.2\tlab-host-b\n' >>/etc/hosts
  wait_for 60 "the other host on the management network (10.99.0.$other)" busybox ping -c 1 -W 1 "10.99.0.$other"
  info "management network: $nic 10.99.0.$n/24, hostname $(hostname)"
}
# lab_libvirt_tcp: libvirtd also listens on TCP 16509 without authentication (only ever on
# the lab's private management network), and gets a host UUID of its own (both hosts boot
# the same image; libvirt refuses to migrate to a host with its own UUID).
lab_libvirt_tcp() {
  local n
  n=$(lab_host_number)
  sed -i '/^auth_tcp\|^host_uuid/d' /etc/libvirt/libvirtd.conf
  printf 'auth_tcp = "none"\nhost_uuid = "00000000-0000-4000-8000-00000000000%s"\n' "$n" \
    >>/etc/libvirt/libvirtd.conf
  systemctl stop libvirtd.service
  systemctl start libvirtd-tcp.socket || fail "cannot start libvirtd-tcp.socket"
  systemctl start libvirtd.service
  wait_for 60 "libvirtd" virsh version
}
# lab_provider_vlan PF VLAN: PF.<VLAN>, the lower device of a macvtap virtio NIC on the provider
# VLAN (the standby of a VF with failover). Seen in scenario 15 on the emulated igb: the macvtap
# puts the guest's MAC into the PF's own unicast filter as well as the VF's, and in some runs
# unicast to the guest went unanswered while its VF was there (net_failover drops frames that
# arrive on the standby while the VF is present); a bridge instead (PF promiscuous) received
# nothing on the PF at all. Real deployments put the standby on another uplink.
lab_provider_vlan() {
  ip link set "$1" up
  ip link add link "$1" name "$1.$2" type vlan id "$2" 2>/dev/null || true
  ip link set "$1.$2" up
}
# lab_vf_host PF INDEX VLAN ADDR: VF INDEX of PF as a host on the provider VLAN (its netdev
# in the host, with ADDR), as a server in the provider network would be; prints the netdev
lab_vf_host() {
  local net
  ip link set "$1" vf "$2" vlan "$3" || fail "cannot set VLAN $3 on VF $2 of $1"
  net=$(netdev_of "$(vf_pci "$1" "$2")")
  [ -n "$net" ] || fail "VF $2 of $1 has no netdev (igbvf)"
  ip addr replace "$4" dev "$net"
  ip link set "$net" up
  wait_for 20 "carrier on $net" has_carrier "$net"
  echo "$net"
}
# lab_probe_netns VLAN ADDR: host b's probe NIC (lab-run --hosts 2 puts it on b's hub on the
# provider segment) alone in network namespace "probe", on VLAN with ADDR: a third party on the
# segment, outside both igb NICs and their embedded switches. `ip netns exec probe CMD` runs
# there.
lab_probe_netns() {
  local nic
  nic=$(netdev_by_mac 52:54:00:30:00:02) ||
    fail "no probe NIC 52:54:00:30:00:02 (lab-run --hosts 2 gives host b one)"
  ip netns add probe
  ip link set "$nic" netns probe
  ip -n probe link set lo up
  ip -n probe link set "$nic" up
  ip -n probe link add link "$nic" name "probe.$1" type vlan id "$1"
  ip -n probe addr add "$2" dev "probe.$1"
  ip -n probe link set "probe.$1" up
}
# lab_dnsmasq IFACE HOSTSFILE NETWORK: a DHCP server that answers only the MACs HOSTSFILE lists
# (dnsmasq's "static" range), re-reading it on SIGHUP
lab_dnsmasq() {
  dnsmasq --conf-file=/dev/null --user=root --port=0 --interface="$1" --bind-interfaces \
    --except-interface=lo --dhcp-range="$3,static,255.255.255.0,10m" --dhcp-hostsfile="$2" \
    --dhcp-leasefile=/run/lab-dnsmasq.leases --pid-file=/run/lab-dnsmasq.pid --log-dhcp \
    --log-facility="$L2_LOGS/dnsmasq.log" || fail "dnsmasq did not start"
}

# ---- measurements (scenarios 17, 18) -------------------------------------------------------

# lab_libvirtd_debug_log FILE: libvirtd also logs, to FILE, the debug lines of the modules
# lib/libvirtd-timing reads: hook calls (util.hook), their commands' results (util.command),
# hostdev detach/reattach (util.hostdev, util.pci). Set at run time with virt-admin when the
# daemon's admin socket answers, else in libvirtd.conf with a restart.
LIBVIRTD_TIMING_FILTERS="1:util.command 1:util.hook 1:util.hostdev 1:util.pci"
lab_libvirtd_debug_log() {
  local file=$1 outputs
  mkdir -p "$(dirname "$file")"
  outputs="1:file:$file"
  # Keep the journal output libvirtd had (warnings and errors) beside the file.
  if virt-admin daemon-log-filters "$LIBVIRTD_TIMING_FILTERS" >/dev/null 2>&1 &&
    virt-admin daemon-log-outputs "$outputs 3:journald" >/dev/null 2>&1; then
    info "libvirtd debug log to $file (virt-admin: $(virt-admin daemon-log-filters | tr -s ' \n' ' '))"
  else
    sed -i '/^log_filters\|^log_outputs/d' /etc/libvirt/libvirtd.conf
    printf 'log_filters = "%s"\nlog_outputs = "%s 3:journald"\n' "$LIBVIRTD_TIMING_FILTERS" "$outputs" \
      >>/etc/libvirt/libvirtd.conf
    systemctl restart libvirtd
    wait_for 60 "libvirtd after restart" virsh version
    info "libvirtd debug log to $file (libvirtd.conf, daemon restarted: no virt-admin)"
  fi
  wait_for 10 "libvirtd's log file $file" test -e "$file"
}
# log_size FILE: its size in bytes now (a mark for log_since)
log_size() { stat -c %s "$1" 2>/dev/null || echo 0; }
# log_since FILE MARK: what FILE gained after log_size gave MARK
log_since() { tail -c +"$(($2 + 1))" "$1"; }
# bind_host_driver PCI: give a VF back to its host driver (igbvf): no driver_override, probe
bind_host_driver() {
  local pci=$1 d=/sys/bus/pci/devices/$1
  echo >"$d/driver_override"
  [ -e "$d/driver" ] && echo "$pci" >"$d/driver/unbind"
  echo "$pci" >/sys/bus/pci/drivers_probe
  wait_for 10 "$pci to bind to igbvf" driver_is "$pci" igbvf
}
# lab_exec_baseline_hook: a second qemu.d hook that does nothing (a copy of /bin/true), so
# every hook event has in the same log what libvirt's fork, exec and XML on stdin cost on this
# host by themselves: the baseline vfhook's hook times are read against. libvirt 9.0 lists
# qemu.d at every event (virHookCall), so it takes effect without a reload.
LAB_BASELINE_HOOK=/etc/libvirt/hooks/qemu.d/lab-exec-baseline
lab_exec_baseline_hook() {
  install -m 0755 /bin/true "$LAB_BASELINE_HOOK"
}

#!/bin/bash
# vfctl scenario 14 (lab-run --hosts 2): `vfctl status` shows the switch side of each PF from
# LLDP. Host b plays the switch: lldpd on its igb PF, named lab-host-b, sending every 5 s.
# Host a: with no lldpd running, status still succeeds and says why it has no LLDP data; with
# lldpd running, status shows host b's system name and port (port ID = b's PF MAC, port
# description = b's PF name, as lldpd sends them by default); with lldpd stopped,
# `status --lldp-listen` hears the same from the raw frames on the PF.
. "$(dirname "$0")/lib/lab.sh"

# lldpd_on PF [EXTRA_LLDPCLI_LINES]: (re)start lldpd on this PF only, with extra configuration.
lldpd_on() {
  command -v lldpd >/dev/null || fail "lldpd is not in the lab image (vm-images/host-packages)"
  mkdir -p /etc/lldpd.d
  printf 'configure system interface pattern %s\n%s' "$1" "${2:-}" >/etc/lldpd.d/lab.conf
  systemctl restart lldpd || fail "cannot start lldpd: $(systemctl status lldpd 2>&1 | tail -5)"
  wait_for 30 "lldpd's socket" lldpcli show configuration
}

if [ "${LAB_ROLE:-a}" = b ]; then
  pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF on host b"
  ip link set "$pf" up
  wait_for 20 "carrier on $pf" has_carrier "$pf"
  step "host b: lldpd on $pf as lab-host-b, every 5 s"
  lldpd_on "$pf" "configure system hostname lab-host-b
configure lldp tx-interval 5
"
  # What host a must see: b's PF as lldpd describes it.
  printf '%s %s\n' "$pf" "$(cat "/sys/class/net/$pf/address")" >"$LAB_SYNC/$lab_scenario-b-port"
  sync_flag b-ready
  step "host b: waiting for host a"
  wait_flag a-done "${LAB_SCENARIO_TIMEOUT:-600}"
  systemctl stop lldpd
  [ -e "$LAB_SYNC/$lab_scenario-a-failed" ] && fail "host a failed (see its log)"
  step "PASS"
  exit 0
fi
[ "${LAB_HOSTS:-1}" = 2 ] || fail "this scenario needs two hosts (lab-run --hosts 2)"
a_signals_done
pf=$(netdev_of "$(pf_pci)"); [ -n "$pf" ] || fail "no igb PF on host a"
lab_pf_setup "$pf" 2
vfhook_install
vfhook_default_config "$pf"
command -v vfctl >/dev/null || fail "vfctl is not installed"
# json_status [ARGS]: vfctl's JSON status without spaces and newlines
json_status() { vfctl --json status "$@" | tr -d '\n '; }
# expect_host_b WHAT JSON: the status shows host b's lldpd on a's PF
expect_host_b() {
  local json=$2 field
  for field in "\"system_name\":\"lab-host-b\"" "\"port_id_subtype\":\"mac\"" \
      "\"port_id\":\"$b_mac\"" "\"port_description\":\"$b_pf\"" "\"port\":\"$b_pf\"" \
      "\"no_data\":null"; do
    [[ "$json" == *"$field"* ]] || fail "$1: no $field in vfctl's status: $json"
  done
}

step "host a: waiting for host b's lldpd"
wait_flag b-ready 300
read -r b_pf b_mac <"$LAB_SYNC/$lab_scenario-b-port"
info "host b sends LLDP on $b_pf ($b_mac)"

step "no lldpd on host a: status works and says why there is no LLDP data"
systemctl stop lldpd 2>/dev/null || true
out=$(vfctl status 2>&1) || fail "vfctl status failed without lldpd: $out"
echo "$out" | sed -n '1,4p;/LLDP/p' | sed 's/^/         /'
grep -q "no LLDP data for $pf: " <<<"$out" || fail "status does not say why $pf has no LLDP data"

step "lldpd on host a: status shows host b's lldpd on $pf"
lldpd_on "$pf"
wait_for 60 "host a's lldpd to hear lab-host-b" sh -c "lldpcli show neighbors | grep -q lab-host-b"
lldpcli show neighbors | sed 's/^/         /'
expect_host_b "from lldpd" "$(json_status)"
out=$(vfctl status)
grep -q "lab-host-b/$b_pf" <<<"$out" || fail "the PF table does not show lab-host-b/$b_pf: $out"
echo "$out" | sed -n '1,3p' | sed 's/^/         /'

step "lldpd stopped: status --lldp-listen hears host b's frames on $pf"
systemctl stop lldpd
t0=$SECONDS
json=$(json_status --lldp-listen 60) || fail "vfctl status --lldp-listen failed: $json"
info "heard within $((SECONDS - t0)) s (host b sends every 5 s; vfctl stops once each PF heard one)"
expect_host_b "--lldp-listen" "$json"
out=$(vfctl status --lldp-listen 60)
grep -q "lab-host-b/$b_pf" <<<"$out" || fail "--lldp-listen: no lab-host-b/$b_pf: $out"
step "PASS"

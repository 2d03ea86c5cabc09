#include "engine/vf_restore.h"

#include "vfio/driver_binding.h"
#include "vfio/vf_control.h"

namespace vfhook {

VfSettings original_values(const VfSettings& wanted, const VfState& state) {
  VfSettings original;
  if (wanted.mac) original.mac = state.mac;
  if (wanted.vlan) original.vlan = state.vlan;
  if (wanted.spoofchk) original.spoofchk = state.spoofchk;
  if (wanted.trust && state.trust) original.trust = state.trust;
  if (wanted.link_state) original.link_state = state.link_state;
  if (wanted.rates) original.rates = VfSettings::Rates{state.min_tx_rate, state.max_tx_rate};
  return original;
}

VfSettings differing(const VfSettings& wanted, const VfState& state) {
  VfSettings diff;
  if (wanted.mac && *wanted.mac != state.mac) diff.mac = wanted.mac;
  if (wanted.vlan && *wanted.vlan != state.vlan) diff.vlan = wanted.vlan;
  if (wanted.spoofchk && *wanted.spoofchk != state.spoofchk) diff.spoofchk = wanted.spoofchk;
  if (wanted.trust && (!state.trust || *wanted.trust != *state.trust)) diff.trust = wanted.trust;
  if (wanted.link_state && *wanted.link_state != state.link_state)
    diff.link_state = wanted.link_state;
  if (wanted.rates && *wanted.rates != VfSettings::Rates{state.min_tx_rate, state.max_tx_rate})
    diff.rates = wanted.rates;
  return diff;
}

Result<VfSnapshot> take_snapshot(const PlannedPort& port, FirstSeen seen, EngineContext& ctx) {
  VfSnapshot snapshot;
  snapshot.vf = port.device;
  snapshot.driver = port.driver;
  snapshot.rebind_driver = !port.port.managed && port.driver != kVfioPciDriver;
  if (const VfFunction* vf = port.vf()) {
    VfSettings planned = port.at_prepare;
    const VfSettings& later = port.at_start;
    if (later.mac) planned.mac = later.mac;
    if (later.vlan) planned.vlan = later.vlan;
    if (later.spoofchk) planned.spoofchk = later.spoofchk;
    if (later.trust) planned.trust = later.trust;
    if (later.link_state) planned.link_state = later.link_state;
    if (later.rates) planned.rates = later.rates;
    VF_ASSIGN(state, with_context(read_vf(ctx.netlink, vf->pf_name, vf->index), port.describe()));
    if (seen == FirstSeen::before_libvirt) {
      // At prepare, before libvirt sets MAC and VLAN of an interface: keep the true original
      // MAC too, so that release can mend what libvirt's own restore leaves behind (it may
      // write an all-zero admin MAC, and igb then makes up a random one).
      if (port.port.kind != PortKind::hostdev) planned.mac = state.mac;
    } else {
      // First seen at start (a VF libvirt chose from a hostdev network, in either live form):
      // libvirt has set MAC and VLAN already, from a state it saved before and restores itself,
      // so the values read now are not originals.
      planned.mac.reset();
      planned.vlan.reset();
    }
    snapshot.changed = original_values(planned, state);
  }
  return snapshot;
}

MacAddress idle_mac_for(const PciAddress& vf) {
  // 02: locally administered unicast; 0x76 ('v'); then the whole PCI address in 32 bits
  // (domain 16, bus 8, slot 5 and function 3 as the kernel's devfn): one MAC per address, with
  // no collision between PCI domains, and the same MAC on every release.
  const auto devfn = static_cast<uint8_t>(vf.slot << 3 | vf.function);
  return MacAddress{{0x02, 0x76, static_cast<uint8_t>(vf.domain >> 8),
                     static_cast<uint8_t>(vf.domain & 0xff), vf.bus, devfn}};
}

Status restore_from_snapshot(const Claim& claim, const VfSnapshot& snapshot,
                             RestoreDriver restore_driver, MacRestore mac_restore,
                             EngineContext& ctx) {
  Status first_failure;
  std::string who = claim.vf_index >= 0
                        ? "PF " + claim.pf + " VF " + std::to_string(claim.vf_index) + " (" +
                              claim.vf.to_string() + ")"
                        : claim.vf.to_string();
  if (claim.vf_index >= 0 && !snapshot.changed.empty()) {
    VfSettings settings = snapshot.changed;
    if (mac_restore == MacRestore::never_zero && settings.mac &&
        (settings.mac->is_zero() || settings.mac->is_multicast())) {
      settings.mac = idle_mac_for(claim.vf);
      ctx.log.info(who + ": its MAC was " + snapshot.changed.mac->to_string() +
                   " before; restoring " + settings.mac->to_string() + " instead");
    }
    // Only what differs now: libvirt has already put back MAC/VLAN of hostdev interfaces.
    auto current = read_vf(ctx.netlink, claim.pf, claim.vf_index);
    if (current) settings = differing(settings, *current);
    if (!current)
      first_failure = fail(current.error().with_context(who));
    else if (auto applied = settings.empty() ? ok()
                                             : apply_vf_settings(ctx.netlink, claim.pf,
                                                                 claim.vf_index, settings);
             !applied)
      first_failure = fail(applied.error().with_context(who));
  }
  if (snapshot.rebind_driver && restore_driver == RestoreDriver::yes) {
    DriverBinder binder(ctx.sysfs, ctx.clock);
    if (auto rebound = binder.restore_driver(claim.vf, snapshot.driver); !rebound && first_failure)
      first_failure = fail(rebound.error().with_context(who));
  }
  return first_failure;
}

}  // namespace vfhook

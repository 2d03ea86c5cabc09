// Snapshots and restores of a VF's state: what vfhook is about to change, recorded before it
// changes it, and put back on release or rollback.
#pragma once

#include "engine/context.h"
#include "engine/port_plan.h"
#include "policy/store.h"

namespace vfhook {

// When vfhook first sees a port's VF: at prepare, before libvirt touched it, or at start, after
// libvirt picked it from a hostdev network and set its MAC and VLAN.
enum class FirstSeen { before_libvirt, after_libvirt };

// Reads the port's current state and records the original value of every setting the plan
// will change at prepare or start, and its driver if vfhook will rebind it. Seen before
// libvirt, an interface's admin MAC is recorded too; seen after, MAC and VLAN are not (libvirt
// restores those from its own earlier record).
Result<VfSnapshot> take_snapshot(const PlannedPort& port, FirstSeen seen, EngineContext& ctx);

// The values of `state` for the fields set in `wanted`: what to put back after applying
// `wanted` on a VF that was in `state`.
VfSettings original_values(const VfSettings& wanted, const VfState& state);

// The fields of `wanted` that differ from `state`: what actually needs a netlink request.
VfSettings differing(const VfSettings& wanted, const VfState& state);

// A stable, locally administered unicast MAC for an idle VF: restore never leaves a VF with an
// all-zero (or multicast) admin MAC, which some drivers refuse and others turn into a random
// MAC in the next guest. 02:76 followed by the VF's whole PCI address (domain, bus, devfn):
// different for every PCI address on the host, PCI domains included.
MacAddress idle_mac_for(const PciAddress& vf);

enum class RestoreDriver { yes, no };
// A rollback puts back exactly what was there a moment ago; a release never leaves an all-zero
// or multicast admin MAC behind (idle_mac_for() takes its place).
enum class MacRestore { exact, never_zero };

// Puts back the settings in the snapshot (PF/VF from the claim), then the driver if the
// snapshot says vfhook changed it and `restore_driver` is yes. Tries every step; returns the
// first failure.
Status restore_from_snapshot(const Claim& claim, const VfSnapshot& snapshot,
                             RestoreDriver restore_driver, MacRestore mac_restore,
                             EngineContext& ctx);

}  // namespace vfhook

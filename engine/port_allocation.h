// Port allocation: which VF of a pool a new port gets, and its reservation for the domain.
// vfctl's `port add`, `render` and (later) attach and the migrate hook use it, so every path
// picks VFs by the same rules (policy/allocator.h) from the same inventory.
//
// Cost: a pool may have thousands of VFs, and reading each from sysfs (links, NUMA node,
// netdev flags) takes milliseconds. The choice therefore takes a shortcut that reads only what
// the rules need: the pool's references (one link per PF), every claim's VF and recorded PF
// (the loads), the domain's own reservations, then, PF by PF in the order the rules prefer,
// the PF's VF layout (sriov_numvfs, sriov_offset and sriov_stride give every VF's address)
// and the claims and reservations of its address range, and sysfs entries only of the VF it
// is about to choose (whose virtfn link must confirm the arithmetic). Where what it reads does
// not confirm the order it assumed (see port_allocation.cc), and whenever no VF is free, every
// VF is read and choose_vf() decides, so the refusal is always choose_vf()'s.
#pragma once

#include <string>
#include <vector>

#include "engine/context.h"
#include "policy/allocator.h"

namespace vfhook {

struct VfRequest {
  std::string domain;
  std::string pool;
  std::vector<int> guest_numa_nodes;  // the guest's memory nodes; empty when not pinned
  // VFs the domain's definition already gives its other ports: never chosen again, though
  // the allocator prefers a VF the domain has reserved (that rule is for re-allocation).
  std::vector<PciAddress> in_use_by_domain;
};

// The VF the allocator would give this request now, read in one store transaction. Nothing is
// recorded: the VF may be taken before reserve_vf().
Result<AllocCandidate> choose_free_vf(const VfRequest& request, EngineContext& ctx);

// choose_free_vf(), and the VF reserved for the domain in the same transaction: callers running
// at once (`vfctl port add` for many domains) never pick the same VF, and none has to retry.
// `newly_reserved` (when given) says whether this call added the reservation; it is false
// when the domain had reserved the chosen VF already (the rules prefer such a VF).
Result<AllocCandidate> choose_and_reserve_vf(const VfRequest& request, EngineContext& ctx,
                                             bool* newly_reserved = nullptr);

// choose_vf() over every VF of the pool, without the shortcut: the reference that
// choose_free_vf() must always agree with (tests compare the two).
Result<AllocCandidate> choose_free_vf_by_full_read(const VfRequest& request, EngineContext& ctx);

// Records `vf` as reserved for the domain, in one transaction that first checks no other
// domain claimed or reserved it meanwhile (ErrorKind::conflict naming the holder).
Status reserve_vf(const PciAddress& vf, const VfRequest& request, EngineContext& ctx);

// Drops the domain's reservation of `vf`; ok when there is none. Refuses (conflict) one that
// belongs to another domain.
Status drop_reservation(const PciAddress& vf, const std::string& domain, EngineContext& ctx);

}  // namespace vfhook

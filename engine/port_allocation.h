// Port allocation: which VF of a pool a new port gets, and its reservation for the domain.
// vfctl's `port add`, `render` and (later) attach and the migrate hook use it, so every path
// picks VFs by the same rules (policy/allocator.h) from the same inventory.
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

// Records `vf` as reserved for the domain, in one transaction that first checks no other
// domain claimed or reserved it meanwhile (ErrorKind::conflict naming the holder).
Status reserve_vf(const PciAddress& vf, const VfRequest& request, EngineContext& ctx);

// Drops the domain's reservation of `vf`; ok when there is none. Refuses (conflict) one that
// belongs to another domain.
Status drop_reservation(const PciAddress& vf, const std::string& domain, EngineContext& ctx);

}  // namespace vfhook

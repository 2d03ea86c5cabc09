// Inventory: what the operator sees in `vfctl status`: every pool, each of its PFs as this
// host has it (netdev, link, NUMA node, VF counts) and each VF with its driver, admin
// settings, and who holds it. Read-only: sysfs, one netlink dump per PF, one store read.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "policy/store.h"
#include "vfio/pci_topology.h"

namespace vfhook {

enum class VfUse {
  free,      // vfhook may give it to a guest
  reserved,  // a defined domain owns it (vfctl port add)
  claimed,   // a running domain holds it
  host,      // the host uses it (its netdev is up): never given away
  excluded,  // outside the pool's vf_range
};
std::string_view to_string(VfUse use);

struct VfStatus {
  VfInfo info;
  std::optional<VfState> state;  // nullopt when netlink did not report this VF
  VfUse use = VfUse::free;
  std::optional<Claim> claim;
  std::optional<Reservation> reservation;
};

struct PfStatus {
  std::string ref;              // as the config lists it
  std::optional<PfInfo> pf;     // nullopt when it does not resolve
  std::string problem;          // why not, or why its VFs could not be read; "" when fine
  std::optional<bool> link_up;  // admin state from netlink; nullopt when unknown
  std::vector<VfStatus> vfs;
};

struct PoolStatus {
  const Pool* pool = nullptr;
  std::vector<PfStatus> pfs;
  int free_vfs = 0;
};

// Every pool (or only `only_pool`: not_found when the config has no such pool). A PF that does
// not resolve or cannot be read is reported in its PfStatus, not as an error: the operator
// needs to see the rest.
Result<std::vector<PoolStatus>> read_inventory(EngineContext& ctx,
                                               const std::optional<std::string>& only_pool);

}  // namespace vfhook

// choose_vf: picks the VF a port of `pool` gets, from the VFs found on the pool's PFs.
//
// A pure function (no I/O): the caller reads the candidates from sysfs and the claims and
// reservations from the Store inside the same BEGIN IMMEDIATE transaction that then records
// the claim, so two hooks can never pick the same VF.
//
// Never chosen: a VF that is claimed (by anyone, the asking domain included), reserved by
// another domain, used outside vfhook (bound to a host driver with an address, say), or
// whose index is outside the pool's vf_range. Among the rest, in order of preference:
//   1. a VF reserved by the asking domain (a defined domain keeps its VF);
//   2. a VF on a NUMA node of the guest's memory (when both are known);
//   3. a VF of the PF with the fewest claimed VFs (spreads load over PFs);
//   4. the lowest PF name, then the lowest VF index (deterministic).
// When none is left, the ErrorKind::policy error counts why, e.g. "pool 'provider' has no
// free VF: 6 claimed, 1 reserved by other domains, 1 in use outside vfhook".
#pragma once

#include <string>
#include <vector>

#include "model/pci_address.h"
#include "policy/config.h"
#include "policy/store.h"
#include "util/result.h"

namespace vfhook {

struct AllocCandidate {
  PciAddress vf;
  std::string pf_name;
  int vf_index = -1;
  int numa_node = -1;  // -1: unknown
  bool used_outside_vfhook = false;
  bool operator==(const AllocCandidate&) const = default;
};

Result<AllocCandidate> choose_vf(const Pool& pool, const std::vector<AllocCandidate>& candidates,
                                 const std::vector<Claim>& claims,
                                 const std::vector<Reservation>& reservations,
                                 const std::string& domain,
                                 const std::vector<int>& guest_numa_nodes);

}  // namespace vfhook

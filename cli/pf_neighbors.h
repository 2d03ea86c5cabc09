// What LLDP says each PF of `vfctl status` is cabled to: the inventory's PF netdevs asked of
// one LldpNeighbors source (lldpd, or frames heard with --lldp-listen). Kept apart from the
// inventory: it is vfctl's, never the hook's, and a source without data is a note in the
// status, never its failure.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/inventory.h"
#include "lldp/neighbors.h"

namespace vfhook {

// By PF netdev: its neighbours, or why there is no LLDP data for it. A PF that is not in the
// map (no netdev: it did not resolve, or its driver has none) was not asked.
using PfNeighbors = std::map<std::string, Result<std::vector<LldpNeighbor>>>;

// The netdev of every resolved PF of `pools` that has one, each once, in order.
std::vector<std::string> pf_netdevs(const std::vector<PoolStatus>& pools);

// Asks `source` about each of pf_netdevs(pools), once per netdev.
PfNeighbors neighbors_of_pfs(const std::vector<PoolStatus>& pools, LldpNeighbors& source);

}  // namespace vfhook

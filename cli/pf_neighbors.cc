#include "cli/pf_neighbors.h"

#include <algorithm>

namespace vfhook {

std::vector<std::string> pf_netdevs(const std::vector<PoolStatus>& pools) {
  std::vector<std::string> netdevs;
  for (const PoolStatus& pool : pools)
    for (const PfStatus& pf : pool.pfs)
      if (pf.pf && !pf.pf->name.empty() &&
          std::find(netdevs.begin(), netdevs.end(), pf.pf->name) == netdevs.end())
        netdevs.push_back(pf.pf->name);
  return netdevs;
}

PfNeighbors neighbors_of_pfs(const std::vector<PoolStatus>& pools, LldpNeighbors& source) {
  PfNeighbors neighbors;
  for (const std::string& netdev : pf_netdevs(pools))
    neighbors.emplace(netdev, source.neighbors_of(netdev));
  return neighbors;
}

}  // namespace vfhook

#include "engine/port_allocation.h"

#include <algorithm>

#include "engine/port_plan.h"
#include "util/printable.h"
#include "vfio/pci_topology.h"

namespace vfhook {
namespace {

// Every VF on the pool's PFs, as the allocator sees it.
Result<std::vector<AllocCandidate>> candidates_of(const Pool& pool, EngineContext& ctx) {
  PoolPfs pfs = resolve_pool_pfs(ctx.config, ctx.sysfs);
  if (std::string unresolved = pfs.unresolved_text(&pool); !unresolved.empty())
    return fail(ErrorKind::policy, unresolved + ": fix the config before giving out its VFs");
  PciTopology topology(ctx.sysfs);
  std::vector<AllocCandidate> candidates;
  for (const PciAddress& pf_address : pfs.pfs_of(pool)) {
    VF_ASSIGN(pf, topology.pf(pf_address.to_string()));
    for (const VfInfo& vf : pf.vfs) {
      AllocCandidate candidate;
      candidate.vf = vf.address;
      candidate.pf_name = vf.pf_name;
      candidate.vf_index = vf.index;
      candidate.numa_node = vf.numa_node;
      // A VF whose netdev the host has up is in use outside vfhook.
      if (vf.netdev) {
        VF_ASSIGN(up, topology.netdev_admin_up(*vf.netdev));
        candidate.used_outside_vfhook = up;
      }
      candidates.push_back(std::move(candidate));
    }
  }
  return candidates;
}

}  // namespace

Result<AllocCandidate> choose_free_vf(const VfRequest& request, EngineContext& ctx) {
  const Pool* pool = ctx.config.find_pool(request.pool);
  if (!pool)
    return fail(ErrorKind::not_found, "no pool '" + printable(request.pool, 64) +
                                          "' in the vfhook config (" +
                                          std::to_string(ctx.config.pools.size()) + " pools)");
  if (pool->mode != PoolMode::vf)
    return fail(ErrorKind::policy, "pool '" + pool->name +
                                       "' gives whole devices, not VFs: give the guest the "
                                       "device as a <hostdev>");
  VF_ASSIGN(all, candidates_of(*pool, ctx));
  std::vector<AllocCandidate> candidates;
  for (AllocCandidate& candidate : all)
    if (std::find(request.in_use_by_domain.begin(), request.in_use_by_domain.end(), candidate.vf) ==
        request.in_use_by_domain.end())
      candidates.push_back(std::move(candidate));
  std::optional<AllocCandidate> chosen;
  VF_TRY(ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(claims, txn.claims());
    VF_ASSIGN(reservations, txn.reservations());
    VF_ASSIGN(vf, choose_vf(*pool, candidates, claims, reservations, request.domain,
                            request.guest_numa_nodes));
    chosen = std::move(vf);
    return ok();
  }));
  return *chosen;
}

Status reserve_vf(const PciAddress& vf, const VfRequest& request, EngineContext& ctx) {
  return ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(claims, txn.claims());
    VF_ASSIGN(reservations, txn.reservations());
    for (const Claim& claim : claims)
      if (claim.vf == vf && claim.domain != request.domain)
        return fail(ErrorKind::conflict, "VF " + vf.to_string() + " was just claimed by domain '" +
                                             printable(claim.domain, 255) + "'; try again");
    for (const Reservation& reservation : reservations) {
      if (reservation.vf != vf) continue;
      if (reservation.domain != request.domain)
        return fail(ErrorKind::conflict, "VF " + vf.to_string() +
                                             " was just reserved for domain '" +
                                             printable(reservation.domain, 255) + "'; try again");
      return ok();  // already ours
    }
    return txn.add_reservation(Reservation{vf, request.domain, request.pool});
  });
}

Status drop_reservation(const PciAddress& vf, const std::string& domain, EngineContext& ctx) {
  return ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(reservations, txn.reservations());
    for (const Reservation& reservation : reservations) {
      if (reservation.vf != vf) continue;
      if (reservation.domain != domain)
        return fail(ErrorKind::conflict, "VF " + vf.to_string() + " is reserved for domain '" +
                                             printable(reservation.domain, 255) + "', not '" +
                                             printable(domain, 255) + "'");
      return txn.remove_reservation(vf);
    }
    return ok();
  });
}

}  // namespace vfhook

#include "engine/inventory.h"

#include <algorithm>

#include "engine/claims.h"
#include "engine/port_plan.h"

namespace vfhook {

std::string_view to_string(VfUse use) {
  switch (use) {
    case VfUse::free:
      return "free";
    case VfUse::reserved:
      return "reserved";
    case VfUse::claimed:
      return "claimed";
    case VfUse::host:
      return "host";
    case VfUse::excluded:
      return "excluded";
  }
  return "?";
}

Result<std::vector<PoolStatus>> read_inventory(EngineContext& ctx,
                                               const std::optional<std::string>& only_pool) {
  if (only_pool && !ctx.config.find_pool(*only_pool))
    return fail(ErrorKind::not_found, "no pool '" + *only_pool + "' in the vfhook config");
  VF_ASSIGN(holdings, read_holdings(ctx.store));
  const std::vector<Claim>& claims = holdings.claims;
  const std::vector<Reservation>& reservations = holdings.reservations;

  PciTopology topology(ctx.sysfs);
  std::vector<PoolStatus> pools;
  for (const Pool& pool : ctx.config.pools) {
    if (only_pool && pool.name != *only_pool) continue;
    PoolStatus status;
    status.pool = &pool;
    for (const PoolPf& ref : pool.pfs) {
      PfStatus pf_status;
      pf_status.ref = ref.ref;
      auto pf = topology.pf(ref.ref);
      if (!pf) {
        pf_status.problem = pf.error().message;
        status.pfs.push_back(std::move(pf_status));
        continue;
      }
      std::optional<PfLink> link;
      if (!pf->name.empty()) {
        auto read = ctx.netlink.read_pf(pf->name);
        if (read) {
          link = std::move(*read);
          pf_status.link_up = link->admin_up;
        } else {
          pf_status.problem = read.error().message;
        }
      }
      for (const VfInfo& vf : pf->vfs) {
        VfStatus vf_status;
        vf_status.info = vf;
        if (link) {
          auto state = std::find_if(link->vfs.begin(), link->vfs.end(),
                                    [&](const VfState& s) { return s.index == vf.index; });
          if (state != link->vfs.end()) vf_status.state = *state;
        }
        auto claim = std::find_if(claims.begin(), claims.end(),
                                  [&](const Claim& c) { return c.vf == vf.address; });
        auto reservation = std::find_if(reservations.begin(), reservations.end(),
                                        [&](const Reservation& r) { return r.vf == vf.address; });
        if (claim != claims.end()) vf_status.claim = *claim;
        if (reservation != reservations.end()) vf_status.reservation = *reservation;
        if (!pool.includes_vf_index(vf.index)) {
          vf_status.use = VfUse::excluded;
        } else if (vf_status.claim) {
          vf_status.use = VfUse::claimed;
        } else if (vf_status.reservation) {
          vf_status.use = VfUse::reserved;
        } else if (vf.netdev && topology.device_admin_up(vf.address).value_or(false)) {
          vf_status.use = VfUse::host;
        } else {
          vf_status.use = VfUse::free;
          ++status.free_vfs;
        }
        pf_status.vfs.push_back(std::move(vf_status));
      }
      pf_status.pf = std::move(*pf);
      status.pfs.push_back(std::move(pf_status));
    }
    pools.push_back(std::move(status));
  }
  return pools;
}

}  // namespace vfhook

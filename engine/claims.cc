#include "engine/claims.h"

#include <algorithm>

#include "engine/decision_log.h"
#include "engine/domain_marker.h"
#include "util/printable.h"

namespace vfhook {

Claim claim_for(const std::string& domain, const PlannedPort& port) {
  // The guest's MAC on this port: the interface's, or for a plain <hostdev> the record's (the
  // MAC vfhook sets); a whole device has none of vfhook's.
  std::optional<MacAddress> mac;
  const VfFunction* vf = port.vf();
  if (vf) {
    if (port.port.kind != PortKind::hostdev)
      mac = port.port.mac;
    else if (port.record)
      mac = port.record->mac;
  }
  // The store keeps a whole device as PF "" and VF index -1.
  return Claim{port.device,         domain, port.pool ? port.pool->name : "", vf ? vf->pf_name : "",
               vf ? vf->index : -1, mac};
}

Result<ClaimResult> claim_ports(const std::string& domain, const std::vector<PlannedPort>& ports,
                                const std::vector<VfSnapshot>& snapshots, EngineContext& ctx) {
  ClaimResult result;
  auto status = ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    result = {};
    VF_ASSIGN(claims, txn.claims());
    VF_ASSIGN(reservations, txn.reservations());
    std::vector<size_t> to_add;
    for (size_t i = 0; i < ports.size(); ++i) {
      const PlannedPort& port = ports[i];
      auto claim = std::find_if(claims.begin(), claims.end(),
                                [&](const Claim& c) { return c.vf == port.device; });
      if (claim != claims.end()) {
        if (claim->domain != domain)
          result.refusals.push_back(
              {port.describe(), "domain '" + printable(claim->domain, 255) +
                                    "' is using this VF. Pick a free VF of the pool or stop '" +
                                    printable(claim->domain, 255) + "' first."});
        continue;  // already ours: a prepare repeated after a crash
      }
      auto reservation = std::find_if(reservations.begin(), reservations.end(),
                                      [&](const Reservation& r) { return r.vf == port.device; });
      if (reservation != reservations.end() && reservation->domain != domain) {
        const std::string holder = printable(reservation->domain, 255);
        result.refusals.push_back(
            {port.describe(), "this VF is reserved for domain '" + holder +
                                  "'. Give this port a free VF (`vfctl port remove`, then `vfctl "
                                  "port add` picks one), or remove that domain's port first "
                                  "(`vfctl port list " +
                                  holder + "` shows it)."});
        continue;
      }
      // One MAC, one guest NIC on a pool's wire: two domains with the same MAC would steal
      // each other's frames (and their DHCP leases).
      Claim wanted = claim_for(domain, port);
      if (wanted.mac) {
        auto same_mac = std::find_if(claims.begin(), claims.end(), [&](const Claim& c) {
          return c.domain != domain && c.pool == wanted.pool && c.mac == wanted.mac;
        });
        if (same_mac != claims.end()) {
          result.refusals.push_back(
              {port.describe(),
               "MAC " + wanted.mac->to_string() + " is in use on pool '" + wanted.pool +
                   "' by domain '" + printable(same_mac->domain, 255) + "' (" +
                   same_mac->vf.to_string() + "). Give this interface a MAC of its own, or stop '" +
                   printable(same_mac->domain, 255) + "' first."});
          continue;
        }
      }
      to_add.push_back(i);
    }
    if (!result.refusals.empty()) return fail(ErrorKind::policy, "VFs held by other domains");
    if (!to_add.empty()) VF_TRY(mark_domain(ctx.config.state_dir, domain, claims));
    for (size_t i : to_add) {
      VF_TRY(txn.add_claim(claim_for(domain, ports[i])));
      VF_TRY(txn.save_snapshot(snapshots[i]));
      result.newly_claimed.push_back(ports[i].device);
    }
    return ok();
  });
  if (!status && result.refusals.empty()) return fail(status.error());
  if (!status) {
    result.newly_claimed.clear();
    for (Refusal& refusal : result.refusals)
      for (const PlannedPort& port : ports)
        if (refusal.subject == port.describe() && port.pool) refusal.pool = port.pool->name;
    return result;
  }
  for (const PlannedPort& port : ports) {
    if (std::find(result.newly_claimed.begin(), result.newly_claimed.end(), port.device) ==
        result.newly_claimed.end())
      continue;
    const Claim claim = claim_for(domain, port);
    ctx.log.record(claim_entry(LogLevel::info,
                               "domain " + printable(domain, 255) + ": claimed " + port.describe() +
                                   " from pool '" + claim.pool + "'",
                               log_outcome::claimed, claim));
  }
  return result;
}

Status drop_claims(const std::vector<PciAddress>& vfs, EngineContext& ctx) {
  if (vfs.empty()) return ok();
  std::vector<std::string> owners;
  VF_TRY(ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    owners.clear();
    VF_ASSIGN(claims, txn.claims());
    for (const Claim& claim : claims)
      if (std::find(vfs.begin(), vfs.end(), claim.vf) != vfs.end()) owners.push_back(claim.domain);
    for (const auto& vf : vfs) {
      VF_TRY(txn.remove_claim(vf));
      VF_TRY(txn.remove_snapshot(vf));
    }
    for (const auto& owner : owners) VF_TRY(txn.drop_admin_macs(owner));
    return ok();
  }));
  // A marker left behind only costs a later release a load of the core, which removes it.
  if (auto synced = sync_domain_markers(ctx.config.state_dir, owners, ctx.store); !synced)
    ctx.log.warning("claims dropped, but their domain markers were not: " + synced.error().message);
  return ok();
}

Result<Holdings> read_holdings(Store& store) {
  Holdings holdings;
  VF_TRY(store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(claims, txn.claims());
    VF_ASSIGN(reservations, txn.reservations());
    holdings.claims = std::move(claims);
    holdings.reservations = std::move(reservations);
    return ok();
  }));
  return holdings;
}

}  // namespace vfhook

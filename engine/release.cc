// release: the last event of a stop, after libvirt restored MAC/VLAN and rebound managed
// hostdevs. The claims database, not the XML, says what to restore: a VF libvirt chose from a
// hostdev network is no longer visible in the XML by now.
#include <algorithm>

#include "engine/claims.h"
#include "engine/decision_log.h"
#include "engine/operations.h"
#include "engine/vf_restore.h"
#include "util/printable.h"

namespace vfhook {

Status release_claims(const std::vector<Claim>& claims, EngineContext& ctx,
                      std::vector<std::string>& problems) {
  std::vector<PciAddress> restored;
  for (const Claim& claim : claims) {
    std::optional<VfSnapshot> snapshot;
    auto read = ctx.store.transaction([&](StoreTransaction& txn) -> Status {
      VF_ASSIGN(found, txn.snapshot(claim.vf));
      snapshot = std::move(found);
      return ok();
    });
    if (!read) {
      problems.push_back(claim.vf.to_string() + ": " + read.error().message);
      continue;
    }
    const Pool* pool = ctx.config.find_pool(claim.pool);
    RestoreDriver driver = pool && pool->keep_idle_on_vfio ? RestoreDriver::no : RestoreDriver::yes;
    if (snapshot) {
      if (auto status =
              restore_from_snapshot(claim, *snapshot, driver, MacRestore::never_zero, ctx);
          !status) {
        // Keep the claim and its snapshot: the next release or prepare of this domain retries,
        // and nothing of the original state is lost.
        ctx.log.record(claim_entry(LogLevel::error,
                                   "domain " + printable(claim.domain, 255) + ": restore failed, " +
                                       claim.vf.to_string() +
                                       " stays claimed: " + status.error().message,
                                   log_outcome::restore_failed, claim));
        problems.push_back(status.error().message);
        continue;
      }
    }
    // A claim reconnect re-created has no snapshot: its VF is released as the guest left it.
    ctx.log.record(claim_entry(
        LogLevel::info,
        "domain " + printable(claim.domain, 255) + (snapshot ? ": restored " : ": released ") +
            claim.vf.to_string() + (snapshot ? " and released it" : " (no snapshot to restore)") +
            " to pool '" + claim.pool + "'",
        snapshot ? log_outcome::restored : log_outcome::released, claim));
    restored.push_back(claim.vf);
  }
  return drop_claims(restored, ctx);
}

Outcome release_domain(const std::string& domain_name, EngineContext& ctx) {
  std::vector<Claim> mine;
  auto read = ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(claims, txn.claims());
    for (auto& claim : claims)
      if (claim.domain == domain_name) mine.push_back(std::move(claim));
    return ok();
  });
  Outcome outcome;
  if (!read) outcome.problems.push_back(read.error().message);
  if (auto status = release_claims(mine, ctx, outcome.problems); !status)
    outcome.problems.push_back(status.error().message);
  // The admin MACs recorded at prepare served the claims made at start.
  if (auto dropped = ctx.store.transaction(
          [&](StoreTransaction& txn) { return txn.drop_admin_macs(domain_name); });
      !dropped)
    outcome.problems.push_back(dropped.error().message);
  return outcome;
}

}  // namespace vfhook

// release: the last event of a stop, after libvirt restored MAC/VLAN and rebound managed
// hostdevs. The claims database, not the XML, says what to restore: a VF libvirt chose from a
// hostdev network is no longer visible in the XML by now.
#include <algorithm>

#include "hooks/claims.h"
#include "hooks/handlers.h"
#include "hooks/vf_restore.h"
#include "util/printable.h"

namespace vfhook {

Status release_claims(const std::vector<Claim>& claims, HookContext& ctx,
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
        problems.push_back(status.error().message);
        continue;
      }
    }
    ctx.log.info("domain " + printable(claim.domain, 255) + ": released " + claim.vf.to_string());
    restored.push_back(claim.vf);
  }
  return drop_claims(restored, ctx);
}

HookOutcome handle_release(const std::string& domain_name, HookContext& ctx) {
  std::vector<Claim> mine;
  auto read = ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(claims, txn.claims());
    for (auto& claim : claims)
      if (claim.domain == domain_name) mine.push_back(std::move(claim));
    return ok();
  });
  std::vector<std::string> problems;
  if (!read) problems.push_back(read.error().message);
  if (auto status = release_claims(mine, ctx, problems); !status)
    problems.push_back(status.error().message);
  if (problems.empty()) return {};

  std::string text =
      "vfhook could not fully restore the VFs of domain '" + printable(domain_name, 255) + "':\n";
  for (const auto& p : problems) text += "  - " + p + "\n";
  text += "Their claims are kept so that nothing is lost; the next stop of this domain retries.\n";
  ctx.log.error(text);
  // libvirt ignores a release hook's exit status; report, but do not pretend it matters.
  return {0, text, {}};
}

}  // namespace vfhook

// reconnect: libvirtd restarted and found this domain running. Never fail: a non-zero exit
// here makes libvirt kill the guest.
#include <algorithm>

#include "hooks/claims.h"
#include "hooks/domain_marker.h"
#include "hooks/handlers.h"
#include "util/printable.h"

namespace vfhook {

HookOutcome handle_reconnect(const std::string& domain_name, const DomainXml& domain,
                             HookContext& ctx) {
  auto plan = plan_ports(domain, ctx, HookStage::reconnect);
  if (!plan) {
    ctx.log.error("domain " + printable(domain_name, 255) +
                  ": reconnect: cannot read the host, claims left as "
                  "they are: " +
                  plan.error().message);
    return {};
  }
  for (const auto& refusal : plan->refusals)
    ctx.log.warning("domain " + printable(domain_name, 255) +
                    ": reconnect: running against policy: " + refusal);

  std::vector<Claim> stale;
  auto synced = ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    stale.clear();
    VF_ASSIGN(claims, txn.claims());
    for (const PlannedPort& port : plan->ports) {
      auto held = std::find_if(claims.begin(), claims.end(),
                               [&](const Claim& c) { return c.vf == port.device; });
      if (held == claims.end()) {
        // No snapshot can be taken now (the guest already changed the VF): release will leave
        // its settings as they are and only drop the claim.
        VF_TRY(mark_domain(ctx.config.state_dir, domain_name, claims));
        VF_TRY(txn.add_claim(claim_for(domain_name, port)));
        ctx.log.warning("domain " + printable(domain_name, 255) + ": reconnect: re-claimed " +
                        port.describe());
      } else if (held->domain != domain_name) {
        ctx.log.error("domain " + printable(domain_name, 255) + ": reconnect: " + port.describe() +
                      " is claimed by domain '" + printable(held->domain, 255) + "' as well");
      }
    }
    for (const Claim& claim : claims) {
      bool in_use = std::any_of(plan->ports.begin(), plan->ports.end(),
                                [&](const PlannedPort& p) { return p.device == claim.vf; });
      if (claim.domain == domain_name && !in_use) stale.push_back(claim);
    }
    return ok();
  });
  if (!synced) {
    ctx.log.error("domain " + printable(domain_name, 255) +
                  ": reconnect: " + synced.error().message);
    return {};
  }
  std::vector<std::string> problems;
  if (auto released = release_claims(stale, ctx, problems); !released)
    problems.push_back(released.error().message);
  for (const auto& p : problems)
    ctx.log.error("domain " + printable(domain_name, 255) +
                  ": reconnect: releasing a stale claim: " + p);
  return {};
}

}  // namespace vfhook

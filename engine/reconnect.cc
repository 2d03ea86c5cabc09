// reconnect: libvirtd restarted and found this domain running. Never fails (a non-zero exit
// here makes libvirt kill the guest) and never changes a VF the running guest uses: a port
// that today's policy would refuse (the config changed while the guest ran) keeps its VF, its
// claim and its settings, and is reported. Only claims of VFs the live XML no longer shows at
// all (detached while the daemon was down) are released; the VFs of a live re-attach marker
// (vfctl migrate --live, about to attach them) count as shown.
#include <algorithm>
#include <set>

#include "engine/claims.h"
#include "engine/decision_log.h"
#include "engine/domain_marker.h"
#include "engine/live_reattach.h"
#include "engine/operations.h"
#include "util/printable.h"

namespace vfhook {

Outcome reconnect_domain(const std::string& domain_name, const DomainXml& live,
                         EngineContext& ctx) {
  Outcome outcome;
  // A live re-attach under way (engine/live_reattach.h): the ports vfctl is about to attach
  // have no device yet, but their VFs were claimed and made ready here at the incoming
  // migration, and count as in use. A marker that cannot be read says nothing about them:
  // no claim of this domain is released then.
  auto reattach = with_reattach_ports(live);
  if (!reattach)
    outcome.problems.push_back(
        "its live re-attach marker cannot be read, so no claim of it is "
        "released now: " +
        reattach.error().message);
  const DomainXml& domain = reattach && *reattach ? **reattach : live;
  // Every host PCI address the running guest uses, whatever policy says of it today.
  std::set<PciAddress> in_use;
  for (const VfPort& port : domain.vf_ports())
    if (port.host) in_use.insert(*port.host);

  auto plan = plan_ports(domain, ctx, Stage::reconnect);
  if (!plan) {
    outcome.problems.push_back("cannot read the host; claims left as they are: " +
                               plan.error().message);
    return outcome;
  }
  for (const Refusal& refusal : plan->refusals)
    outcome.problems.push_back("running against today's policy, kept as it is: " +
                               to_string(refusal));

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
        const Claim claim = claim_for(domain_name, port);
        VF_TRY(txn.add_claim(claim));
        ctx.log.record(claim_entry(
            LogLevel::warning,
            "domain " + printable(domain_name, 255) + ": reconnect: re-claimed " + port.describe(),
            log_outcome::reclaimed, claim));
      } else if (held->domain != domain_name) {
        outcome.problems.push_back(port.describe() + " is claimed by domain '" +
                                   printable(held->domain, 255) + "' as well");
      }
    }
    for (const Claim& claim : claims)
      if (reattach && claim.domain == domain_name && !in_use.count(claim.vf))
        stale.push_back(claim);
    return ok();
  });
  if (!synced) {
    outcome.problems.push_back(synced.error().message);
    return outcome;
  }
  if (auto released = release_claims(stale, ctx, outcome.problems); !released)
    outcome.problems.push_back(released.error().message);
  return outcome;
}

}  // namespace vfhook

#include "cli/gc.h"

#include "cli/qmp_hotplug.h"
#include "engine/claims.h"

#include <algorithm>
#include <map>
#include <set>

#include "engine/operations.h"
#include "engine/port_allocation.h"
#include "util/printable.h"

namespace vfhook {
namespace {

enum class DomainState { running, stopped, gone, unknown };

DomainState state_of(const std::string& domain, Libvirt& libvirt, std::string& why) {
  auto active = libvirt.is_active(domain);
  if (active) return *active ? DomainState::running : DomainState::stopped;
  if (active.error().kind == ErrorKind::not_found) return DomainState::gone;
  why = active.error().message;
  return DomainState::unknown;
}

}  // namespace

GcReport collect_garbage(Libvirt& libvirt, EngineContext& ctx) {
  GcReport report;
  auto read = read_holdings(ctx.store);
  if (!read) {
    report.problems.push_back(read.error().message);
    return report;
  }
  const std::vector<Claim>& claims = read->claims;
  const std::vector<Reservation>& reservations = read->reservations;
  std::set<std::string> domains;
  for (const Claim& claim : claims) domains.insert(claim.domain);
  for (const Reservation& reservation : reservations) domains.insert(reservation.domain);

  for (const std::string& domain : domains) {
    if (is_qmp_claim_owner(domain)) continue;  // a QEMU outside libvirt: libvirt cannot say
    const std::string shown = "domain '" + printable(domain, 255) + "'";
    std::string why;
    const DomainState state = state_of(domain, libvirt, why);
    if (state == DomainState::unknown) {
      report.problems.push_back(shown + ": left alone: " + why);
      continue;
    }
    if (state == DomainState::running) continue;
    const bool holds_claims = std::any_of(claims.begin(), claims.end(),
                                          [&](const Claim& c) { return c.domain == domain; });
    if (holds_claims) {
      Outcome released = release_domain(domain, ctx);
      for (const std::string& problem : released.problems)
        report.problems.push_back(shown + ": " + problem);
      if (released.ok() && released.problems.empty())
        report.changes.push_back(
            shown + (state == DomainState::gone ? " no longer exists" : " is not running") +
            ": its VFs were restored and their claims dropped");
    }
    if (state != DomainState::gone) continue;
    for (const Reservation& reservation : reservations) {
      if (reservation.domain != domain) continue;
      if (auto dropped = drop_reservation(reservation.vf, domain, ctx); !dropped)
        report.problems.push_back(shown + ": " + dropped.error().message);
      else
        report.changes.push_back(shown + " no longer exists: the reservation of VF " +
                                 reservation.vf.to_string() + " was dropped");
    }
  }
  for (const std::string& change : report.changes) ctx.log.info("gc: " + change);
  for (const std::string& problem : report.problems) ctx.log.warning("gc: " + problem);
  return report;
}

}  // namespace vfhook

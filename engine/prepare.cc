// prepare: the first step of a start, before libvirt touches any hostdev.
#include <set>

#include "engine/claims.h"
#include "engine/operations.h"
#include "engine/undo_stack.h"
#include "engine/vf_restore.h"
#include "util/printable.h"
#include "vfio/driver_binding.h"
#include "vfio/vf_control.h"

namespace vfhook {
namespace {

// A failure after the host was changed: unwinds `undo` first, so the outcome can say whether
// the host really is back as it was.
Outcome rolled_back(Error error, UndoStack& undo) {
  Outcome outcome = Outcome::failed_with(std::move(error));
  outcome.host_was_changed = true;
  outcome.undo_failures = undo.unwind();
  return outcome;
}

}  // namespace

Outcome prepare_domain(const std::string& domain_name, const DomainXml& domain,
                       EngineContext& ctx) {
  auto plan = plan_ports(domain, ctx, Stage::prepare);
  if (!plan) return Outcome::failed_with(plan.error());
  if (!plan->refusals.empty()) return Outcome::refused_by(plan->refusals);
  if (plan->ports.empty()) return {};

  auto host_refusals = check_host_ready(*plan, ctx);
  if (!host_refusals) return Outcome::failed_with(host_refusals.error());
  if (!host_refusals->empty()) return Outcome::refused_by(*host_refusals);

  std::vector<VfSnapshot> snapshots;
  for (const PlannedPort& port : plan->ports) {
    auto snapshot = take_snapshot(port, FirstSeen::before_libvirt, ctx);
    if (!snapshot) return Outcome::failed_with(snapshot.error());
    snapshots.push_back(std::move(*snapshot));
  }

  auto claimed = claim_ports(domain_name, plan->ports, snapshots, ctx);
  if (!claimed) return Outcome::failed_with(claimed.error());
  if (!claimed->refusals.empty()) return Outcome::refused_by(claimed->refusals);

  // A VF whose rollback fails keeps its claim and snapshot: libvirt runs release after a failed
  // prepare, and release retries from the snapshot; dropping them would lose the original state.
  std::set<PciAddress> unrestored;
  auto remember_failure = [&unrestored](const PciAddress& vf, Status status) {
    if (!status) unrestored.insert(vf);
    return status;
  };
  UndoStack undo(ctx.log);
  undo.push("drop the claims of domain '" + printable(domain_name, 255) + "'",
            [&ctx, &unrestored, vfs = claimed->newly_claimed] {
              std::vector<PciAddress> restored;
              for (const auto& vf : vfs)
                if (!unrestored.count(vf)) restored.push_back(vf);
              return drop_claims(restored, ctx);
            });

  DriverBinder binder(ctx.sysfs, ctx.clock);
  for (size_t i = 0; i < plan->ports.size(); ++i) {
    const PlannedPort& port = plan->ports[i];
    if (port.port.managed || port.driver == kVfioPciDriver) continue;
    undo.push("rebind " + port.device.to_string() + " to " + port.driver.value_or("no driver"),
              [&binder, &port, &remember_failure] {
                return remember_failure(port.device,
                                        binder.restore_driver(port.device, port.driver));
              });
    if (auto bound = binder.bind_to_vfio(port.device); !bound)
      return rolled_back(bound.error().with_context(port.describe()), undo);
    if (!vfio_group_node_present(ctx.devfs, port.iommu_group))
      return rolled_back(Error{ErrorKind::not_found,
                               port.describe() + ": bound to vfio-pci, but /dev/vfio/" +
                                   std::to_string(port.iommu_group) +
                                   " did not appear; is the IOMMU enabled (intel_iommu=on)?",
                               0},
                         undo);
    ctx.log.info("domain " + printable(domain_name, 255) + ": " + port.describe() +
                 ": bound to vfio-pci");
  }

  for (size_t i = 0; i < plan->ports.size(); ++i) {
    const PlannedPort& port = plan->ports[i];
    if (port.whole_device || port.at_prepare.empty()) continue;
    Claim claim = claim_for(domain_name, port);
    undo.push("restore " + port.describe(), [&ctx, &remember_failure, claim,
                                             snapshot = snapshots[i]] {
      return remember_failure(claim.vf, restore_from_snapshot(claim, snapshot, RestoreDriver::no,
                                                              MacRestore::exact, ctx));
    });
    if (auto applied = apply_vf_settings(ctx.netlink, port.pf_name, port.vf_index, port.at_prepare);
        !applied)
      return rolled_back(applied.error().with_context(port.describe()), undo);
    ctx.log.info("domain " + printable(domain_name, 255) + ": " + port.describe() +
                 ": MAC/VLAN set");
  }

  undo.commit();
  ctx.log.info("domain " + printable(domain_name, 255) + ": prepared " +
               std::to_string(plan->ports.size()) + " VF port(s)");
  return {};
}

}  // namespace vfhook

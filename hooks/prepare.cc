// prepare: the first step of a start, before libvirt touches any hostdev.
#include <set>

#include "hooks/claims.h"
#include "hooks/handlers.h"
#include "hooks/undo_stack.h"
#include "hooks/vf_restore.h"
#include "util/printable.h"
#include "vfio/driver_binding.h"
#include "vfio/vf_control.h"

namespace vfhook {
namespace {

HookOutcome refuse(const std::string& domain, const std::vector<std::string>& refusals,
                   Logger& log) {
  std::string text = format_refusal(domain, refusals);
  log.warning(text);
  return {1, text, {}};
}

HookOutcome failed(const std::string& domain, const Error& error, bool undone, Logger& log) {
  std::string text =
      "vfhook could not prepare domain '" + printable(domain, 255) + "': " + error.message + "\n";
  text += undone ? "Everything vfhook had done for this start was undone.\n"
                 : "Nothing was changed on the host.\n";
  log.error(text);
  return {1, text, {}};
}

// A failure after the host was changed: unwinds `undo` first, so the message can say whether
// the host really is back as it was.
HookOutcome rolled_back(const std::string& domain, const Error& error, UndoStack& undo,
                        Logger& log) {
  std::vector<std::string> left = undo.unwind();
  if (left.empty()) return failed(domain, error, true, log);
  std::string text =
      "vfhook could not prepare domain '" + printable(domain, 255) + "': " + error.message + "\n";
  text += "Undoing what vfhook had done for this start failed too:\n";
  for (const auto& step : left) text += "  - " + step + "\n";
  text +=
      "Their claims and snapshots are kept: the release libvirt runs next retries the "
      "restore. Check these devices (driver, VF settings) before using them again.\n";
  log.error(text);
  return {1, text, {}};
}

}  // namespace

HookOutcome handle_prepare(const std::string& domain_name, const DomainXml& domain,
                           HookContext& ctx) {
  auto plan = plan_ports(domain, ctx, HookStage::prepare);
  if (!plan) return failed(domain_name, plan.error(), false, ctx.log);
  if (!plan->refusals.empty()) return refuse(domain_name, plan->refusals, ctx.log);
  if (plan->ports.empty()) return {};

  auto host_refusals = check_host_ready(*plan, ctx);
  if (!host_refusals) return failed(domain_name, host_refusals.error(), false, ctx.log);
  if (!host_refusals->empty()) return refuse(domain_name, *host_refusals, ctx.log);

  std::vector<VfSnapshot> snapshots;
  for (const PlannedPort& port : plan->ports) {
    auto snapshot = take_snapshot(port, FirstSeen::before_libvirt, ctx);
    if (!snapshot) return failed(domain_name, snapshot.error(), false, ctx.log);
    snapshots.push_back(std::move(*snapshot));
  }

  auto claimed = claim_ports(domain_name, plan->ports, snapshots, ctx);
  if (!claimed) return failed(domain_name, claimed.error(), false, ctx.log);
  if (!claimed->refusals.empty()) return refuse(domain_name, claimed->refusals, ctx.log);

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
      return rolled_back(domain_name, bound.error().with_context(port.describe()), undo, ctx.log);
    if (!vfio_group_node_present(ctx.devfs, port.iommu_group))
      return rolled_back(domain_name,
                         Error{ErrorKind::not_found,
                               port.describe() + ": bound to vfio-pci, but /dev/vfio/" +
                                   std::to_string(port.iommu_group) +
                                   " did not appear; is the IOMMU enabled (intel_iommu=on)?",
                               0},
                         undo, ctx.log);
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
      return rolled_back(domain_name, applied.error().with_context(port.describe()), undo, ctx.log);
    ctx.log.info("domain " + printable(domain_name, 255) + ": " + port.describe() +
                 ": MAC/VLAN set");
  }

  undo.commit();
  ctx.log.info("domain " + printable(domain_name, 255) + ": prepared " +
               std::to_string(plan->ports.size()) + " VF port(s)");
  return {};
}

}  // namespace vfhook

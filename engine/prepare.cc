// prepare: the first step of a start, before libvirt touches any hostdev.
#include <algorithm>
#include <set>

#include "engine/claims.h"
#include "engine/live_reattach.h"
#include "engine/operations.h"
#include "engine/undo_stack.h"
#include "engine/vf_restore.h"
#include "util/printable.h"
#include "vfio/driver_binding.h"
#include "vfio/pci_topology.h"
#include "vfio/vf_control.h"

namespace vfhook {
namespace {

// For the ports whose VF libvirt will choose from a hostdev network: the admin MAC of every
// free VF it may choose, recorded for this domain. vfhook first sees the chosen VF at start,
// after libvirt changed its MAC; release puts the recorded one back.
Status record_network_admin_macs(const std::string& domain, const PortPlan& plan,
                                 EngineContext& ctx) {
  if (plan.libvirt_chooses_from.empty()) return ok();
  PciTopology topology(ctx.sysfs);
  std::vector<std::pair<PciAddress, MacAddress>> macs;
  for (const Pool* pool : plan.libvirt_chooses_from) {
    for (const PciAddress& pf_address : plan.pools.pfs_of(*pool)) {
      VF_ASSIGN(pf, topology.pf(pf_address.to_string()));
      if (pf.name.empty()) continue;  // no netdev: libvirt cannot set a MAC on its VFs either
      VF_ASSIGN(link, ctx.netlink.read_pf(pf.name));
      for (const VfInfo& vf : pf.vfs) {
        if (!pool->includes_vf_index(vf.index)) continue;
        for (const VfState& state : link.vfs)
          if (state.index == vf.index) macs.emplace_back(vf.address, state.mac);
      }
    }
  }
  return ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(claims, txn.claims());
    std::vector<std::pair<PciAddress, MacAddress>> free;
    for (const auto& entry : macs)
      if (std::none_of(claims.begin(), claims.end(),
                       [&](const Claim& claim) { return claim.vf == entry.first; }))
        free.push_back(entry);
    return txn.record_admin_macs(domain, free);
  });
}

}  // namespace

Outcome prepare_domain(const std::string& domain_name, const DomainXml& given, EngineContext& ctx) {
  // An incoming live migration may carry ports to re-attach (engine/live_reattach.h): they are
  // prepared as if they were devices of the domain already.
  auto with_reattach = with_reattach_ports(given);
  if (!with_reattach) return Outcome::failed_with(with_reattach.error());
  const DomainXml& domain = *with_reattach ? **with_reattach : given;
  auto plan = plan_ports(domain, ctx, Stage::prepare);
  if (!plan) return Outcome::failed_with(plan.error());
  if (!plan->refusals.empty()) return Outcome::refused_by(plan->refusals);
  if (auto recorded = record_network_admin_macs(domain_name, *plan, ctx); !recorded)
    return Outcome::failed_with(recorded.error());
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
    undo.push(
        "rebind " + port.device.to_string() + " to " + port.driver.value_or("no driver"),
        [&binder, &port, &remember_failure] {
          return remember_failure(port.device, binder.restore_driver(port.device, port.driver));
        },
        port.device);
    if (auto bound = binder.bind_to_vfio(port.device); !bound)
      return rolled_back(bound.error().with_context(port.describe()), undo);
    if (!vfio_group_node_present(ctx.devfs, port.iommu_group))
      return rolled_back(
          Error{ErrorKind::not_found,
                port.describe() + ": bound to vfio-pci, but /dev/vfio/" +
                    std::to_string(port.iommu_group) +
                    " did not appear: the IOMMU seems to be off. `vfctl doctor` checks "
                    "it and says how to turn it on.",
                0},
          undo);
    ctx.log.info("domain " + printable(domain_name, 255) + ": " + port.describe() +
                 ": bound to vfio-pci");
  }

  for (size_t i = 0; i < plan->ports.size(); ++i) {
    const PlannedPort& port = plan->ports[i];
    const VfFunction* vf = port.vf();
    if (!vf || port.at_prepare.empty()) continue;
    Claim claim = claim_for(domain_name, port);
    undo.push(
        "restore " + port.describe(),
        [&ctx, &remember_failure, claim, snapshot = snapshots[i]] {
          return remember_failure(
              claim.vf,
              restore_from_snapshot(claim, snapshot, RestoreDriver::no, MacRestore::exact, ctx));
        },
        port.device);
    if (auto applied = apply_vf_settings(ctx.netlink, vf->pf_name, vf->index, port.at_prepare);
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

// start: libvirt has bound hostdevs and set MAC/VLAN; QEMU is not running yet.
#include <algorithm>
#include <map>

#include "engine/claims.h"
#include "engine/live_reattach.h"
#include "engine/operations.h"
#include "engine/undo_stack.h"
#include "engine/vf_restore.h"
#include "util/printable.h"
#include "vfio/vf_control.h"

namespace vfhook {

Outcome start_domain(const std::string& domain_name, const DomainXml& given, EngineContext& ctx) {
  // An incoming live migration may carry ports to re-attach (engine/live_reattach.h): they are
  // prepared as if they were devices of the domain already.
  auto with_reattach = with_reattach_ports(given);
  if (!with_reattach) return Outcome::failed_with(with_reattach.error());
  const DomainXml& domain = *with_reattach ? **with_reattach : given;
  auto plan = plan_ports(domain, ctx, Stage::start);
  if (!plan) return Outcome::failed_with(plan.error());
  if (!plan->refusals.empty()) return Outcome::refused_by(plan->refusals);
  UndoStack undo(ctx.log);

  // VFs libvirt chose from a hostdev network are seen for the first time now. The live XML
  // shows such a VF either as <interface type='network'> with <actual type='hostdev'> or,
  // formatted as its actual type, as a plain <interface type='hostdev'>: so every port this
  // domain has not claimed yet is claimed here (claim_ports skips the ones prepare claimed).
  // Such a VF's admin MAC before libvirt set it was recorded at prepare (with every free VF of
  // the pool): it becomes the snapshot's original MAC, so release restores it exactly.
  std::vector<PciAddress> ours;
  std::map<PciAddress, MacAddress> admin_macs;
  auto read = ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(claims, txn.claims());
    for (const Claim& claim : claims)
      if (claim.domain == domain_name) ours.push_back(claim.vf);
    for (const PlannedPort& port : plan->ports) {
      if (!port.vf() || port.port.kind == PortKind::hostdev) continue;
      VF_ASSIGN(mac, txn.recorded_admin_mac(domain_name, port.device));
      if (mac) admin_macs.emplace(port.device, *mac);
    }
    return ok();
  });
  if (!read) return Outcome::failed_with(read.error());
  std::vector<PlannedPort> unseen;
  std::vector<VfSnapshot> snapshots;
  for (const PlannedPort& port : plan->ports) {
    if (std::find(ours.begin(), ours.end(), port.device) != ours.end()) continue;
    auto snapshot = take_snapshot(port, FirstSeen::after_libvirt, ctx);
    if (!snapshot) return Outcome::failed_with(snapshot.error());
    if (auto recorded = admin_macs.find(port.device); recorded != admin_macs.end())
      snapshot->changed.mac = recorded->second;
    unseen.push_back(port);
    snapshots.push_back(std::move(*snapshot));
  }
  if (!unseen.empty()) {
    auto claimed = claim_ports(domain_name, unseen, snapshots, ctx);
    if (!claimed) return Outcome::failed_with(claimed.error());
    if (!claimed->refusals.empty()) return Outcome::refused_by(claimed->refusals);
    undo.push("drop the claims made at start",
              [&ctx, vfs = claimed->newly_claimed] { return drop_claims(vfs, ctx); });
  }

  for (const PlannedPort& port : plan->ports) {
    const VfFunction* vf = port.vf();
    if (!vf || port.at_start.empty()) continue;
    auto state = read_vf(ctx.netlink, vf->pf_name, vf->index);
    if (!state) return rolled_back(state.error().with_context(port.describe()), undo);
    VfSettings change = differing(port.at_start, *state);
    if (change.empty()) continue;
    Claim claim = claim_for(domain_name, port);
    VfSnapshot before{port.device, {}, false, original_values(change, *state)};
    undo.push(
        "undo the start settings of " + port.describe(),
        [&ctx, claim, before] {
          return restore_from_snapshot(claim, before, RestoreDriver::no, MacRestore::exact, ctx);
        },
        port.device);
    if (auto applied = apply_vf_settings(ctx.netlink, vf->pf_name, vf->index, change); !applied)
      return rolled_back(applied.error().with_context(port.describe()), undo);
    ctx.log.info("domain " + printable(domain_name, 255) + ": " + port.describe() +
                 ": start settings applied");
  }
  undo.commit();
  return {};
}

}  // namespace vfhook

// start: libvirt has bound hostdevs and set MAC/VLAN; QEMU is not running yet.
#include <algorithm>

#include "hooks/claims.h"
#include "hooks/handlers.h"
#include "hooks/undo_stack.h"
#include "hooks/vf_restore.h"
#include "util/printable.h"
#include "vfio/vf_control.h"

namespace vfhook {
namespace {

HookOutcome failed(const std::string& domain, const Error& error, Logger& log) {
  std::string text = "vfhook could not start domain '" + printable(domain, 255) +
                     "': " + error.message +
                     "\nThe VF settings vfhook had applied for this start were undone.\n";
  log.error(text);
  return {1, text, {}};
}

// A failure after settings were applied: unwinds `undo` first, so the message can say
// whether they really were put back.
HookOutcome rolled_back(const std::string& domain, const Error& error, UndoStack& undo,
                        Logger& log) {
  std::vector<std::string> left = undo.unwind();
  if (left.empty()) return failed(domain, error, log);
  std::string text =
      "vfhook could not start domain '" + printable(domain, 255) + "': " + error.message + "\n";
  text += "Undoing the VF settings vfhook had applied for this start failed too:\n";
  for (const auto& step : left) text += "  - " + step + "\n";
  text += "Check these VFs' settings before using them again.\n";
  log.error(text);
  return {1, text, {}};
}

}  // namespace

HookOutcome handle_start(const std::string& domain_name, const DomainXml& domain,
                         HookContext& ctx) {
  auto plan = plan_ports(domain, ctx, HookStage::start);
  if (!plan) return failed(domain_name, plan.error(), ctx.log);
  if (!plan->refusals.empty()) {
    std::string text = format_refusal(domain_name, plan->refusals);
    ctx.log.warning(text);
    return {1, text, {}};
  }
  UndoStack undo(ctx.log);

  // VFs libvirt chose from a hostdev network are seen for the first time now. The live XML
  // shows such a VF either as <interface type='network'> with <actual type='hostdev'> or,
  // formatted as its actual type, as a plain <interface type='hostdev'>: so every port this
  // domain has not claimed yet is claimed here (claim_ports skips the ones prepare claimed).
  std::vector<PciAddress> ours;
  auto read = ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(claims, txn.claims());
    for (const Claim& claim : claims)
      if (claim.domain == domain_name) ours.push_back(claim.vf);
    return ok();
  });
  if (!read) return failed(domain_name, read.error(), ctx.log);
  std::vector<PlannedPort> unseen;
  std::vector<VfSnapshot> snapshots;
  for (const PlannedPort& port : plan->ports) {
    if (std::find(ours.begin(), ours.end(), port.device) != ours.end()) continue;
    auto snapshot = take_snapshot(port, FirstSeen::after_libvirt, ctx);
    if (!snapshot) return failed(domain_name, snapshot.error(), ctx.log);
    unseen.push_back(port);
    snapshots.push_back(std::move(*snapshot));
  }
  if (!unseen.empty()) {
    auto claimed = claim_ports(domain_name, unseen, snapshots, ctx);
    if (!claimed) return failed(domain_name, claimed.error(), ctx.log);
    if (!claimed->refusals.empty()) {
      std::string text = format_refusal(domain_name, claimed->refusals);
      ctx.log.warning(text);
      return {1, text, {}};
    }
    undo.push("drop the claims made at start",
              [&ctx, vfs = claimed->newly_claimed] { return drop_claims(vfs, ctx); });
  }

  for (const PlannedPort& port : plan->ports) {
    if (port.whole_device || port.at_start.empty()) continue;
    auto state = read_vf(ctx.netlink, port.pf_name, port.vf_index);
    if (!state)
      return rolled_back(domain_name, state.error().with_context(port.describe()), undo, ctx.log);
    VfSettings change = differing(port.at_start, *state);
    if (change.empty()) continue;
    Claim claim = claim_for(domain_name, port);
    VfSnapshot before{port.device, {}, false, original_values(change, *state)};
    undo.push("undo the start settings of " + port.describe(), [&ctx, claim, before] {
      return restore_from_snapshot(claim, before, RestoreDriver::no, MacRestore::exact, ctx);
    });
    if (auto applied = apply_vf_settings(ctx.netlink, port.pf_name, port.vf_index, change);
        !applied)
      return rolled_back(domain_name, applied.error().with_context(port.describe()), undo, ctx.log);
    ctx.log.info("domain " + printable(domain_name, 255) + ": " + port.describe() +
                 ": start settings applied");
  }
  undo.commit();
  return {};
}

}  // namespace vfhook

#include "engine/vf_provisioning.h"

#include <algorithm>
#include <chrono>

#include "engine/claims.h"
#include "engine/port_plan.h"
#include "engine/vf_restore.h"
#include "util/printable.h"
#include "vfio/driver_binding.h"
#include "vfio/pci_topology.h"
#include "vfio/vf_count.h"

namespace vfhook {
namespace {

// Who holds a VF of this PF now, "" when no one: "VF 0000:01:10.2 is claimed by domain 'web1'".
std::string holder_on_pf(const PciAddress& pf, const std::vector<VfInfo>& vfs,
                         const std::vector<Claim>& claims,
                         const std::vector<Reservation>& reservations) {
  for (const VfInfo& vf : vfs) {
    if (vf.pf != pf) continue;
    for (const Claim& claim : claims)
      if (claim.vf == vf.address)
        return "VF " + vf.address.to_string() + " is claimed by domain '" +
               printable(claim.domain, 255) + "'";
    for (const Reservation& reservation : reservations)
      if (reservation.vf == vf.address)
        return "VF " + vf.address.to_string() + " is reserved for domain '" +
               printable(reservation.domain, 255) + "'";
  }
  return "";
}

void provision_pf(const Pool& pool, const PciAddress& pf_address, EngineContext& ctx,
                  const std::vector<Claim>& claims, const std::vector<Reservation>& reservations,
                  ProvisioningReport& report) {
  PciTopology before(ctx.sysfs);
  auto pf = before.pf(pf_address.to_string());
  const std::string label = "pool '" + pool.name + "' PF " +
                            (pf && !pf->name.empty() ? pf->name : pf_address.to_string());
  if (!pf) {
    report.problems.push_back(label + ": " + pf.error().message);
    return;
  }
  // VFs this run creates have no admin MAC yet, whatever netlink shows: a VF driver that probed
  // them meanwhile may have registered a random MAC of its own (igbvf does), which the PF then
  // reports like an admin MAC and which changes at the next probe.
  bool created = false;
  if (pool.num_vfs && *pool.num_vfs != pf->num_vfs) {
    if (std::string holder = holder_on_pf(pf->address, pf->vfs, claims, reservations);
        !holder.empty()) {
      report.problems.push_back(label + ": has " + std::to_string(pf->num_vfs) + " VFs, the pool " +
                                "asks for " + std::to_string(*pool.num_vfs) + ", but " + holder +
                                ": changing the count destroys every VF of the PF. Stop the "
                                "domains using it (and remove their ports) first.");
      return;
    }
    if (auto set = set_vf_count(ctx.sysfs, pf->address, *pool.num_vfs); !set) {
      report.problems.push_back(label + ": " + set.error().message);
      return;
    }
    report.changes.push_back(label + ": " + std::to_string(pf->num_vfs) + " -> " +
                             std::to_string(*pool.num_vfs) + " VFs");
    created = true;
  }

  // The VFs as they are now (a new topology: the count may have changed).
  PciTopology after(ctx.sysfs);
  auto now = after.pf(pf_address.to_string());
  if (!now) {
    report.problems.push_back(label + ": " + now.error().message);
    return;
  }
  if (now->vfs.empty()) return;
  if (now->name.empty()) {
    report.problems.push_back(label +
                              ": no netdev (is its driver bound?): its VFs' admin MACs "
                              "cannot be set");
    return;
  }
  auto link = ctx.netlink.read_pf(now->name);
  if (!link) {
    report.problems.push_back(label + ": " + link.error().message);
    return;
  }
  // Longer than the hook's 2 s: right after the count changes, the VFs' driver may still be
  // probing each new VF (seconds each under emulation) before its unbind file exists.
  DriverBinder binder(ctx.sysfs, ctx.clock, std::chrono::seconds(15));
  for (const VfInfo& vf : now->vfs) {
    if (!pool.includes_vf_index(vf.index)) continue;
    const bool held = std::any_of(claims.begin(), claims.end(),
                                  [&](const Claim& c) { return c.vf == vf.address; });
    if (held) continue;  // a running guest's VF is the hook's business
    const std::string who =
        label + " VF " + std::to_string(vf.index) + " (" + vf.address.to_string() + ")";
    auto state = std::find_if(link->vfs.begin(), link->vfs.end(),
                              [&](const VfState& s) { return s.index == vf.index; });
    if (state != link->vfs.end() &&
        (created || state->mac.is_zero() || state->mac.is_multicast())) {
      const MacAddress idle = idle_mac_for(vf.address);
      if (auto set = ctx.netlink.set_mac(now->name, vf.index, idle); !set) {
        report.problems.push_back(who + ": set admin MAC " + idle.to_string() + ": " +
                                  set.error().message);
      } else {
        report.changes.push_back(who + ": admin MAC " + idle.to_string());
      }
    }
    if (pool.keep_idle_on_vfio && vf.driver != kVfioPciDriver) {
      // By device, not by vf.netdev: udev may have renamed a fresh VF's eth<N> meanwhile.
      if (after.device_admin_up(vf.address).value_or(true)) {
        const std::string ifname =
            after.netdev(vf.address).value_or(std::nullopt).value_or(vf.netdev.value_or("?"));
        report.problems.push_back(who + ": the host uses it (interface " + ifname +
                                  " is up): left on " + vf.driver.value_or("no driver"));
        continue;
      }
      if (auto bound = binder.bind_to_vfio(vf.address); !bound) {
        report.problems.push_back(who + ": " + bound.error().message);
      } else {
        report.changes.push_back(who + ": bound to vfio-pci");
      }
    }
  }
}

bool every_vf_pool_resolved(const HostConfig& config, const PoolPfs& pfs) {
  return std::all_of(config.pools.begin(), config.pools.end(), [&](const Pool& pool) {
    return pool.mode != PoolMode::vf || pfs.unresolved_text(&pool).empty();
  });
}

}  // namespace

ProvisioningReport provision_vfs(EngineContext& ctx, Clock::Duration wait_for_pfs) {
  ProvisioningReport report;
  const Clock::TimePoint started = ctx.clock.now();
  PoolPfs pfs = resolve_pool_pfs(ctx.config, ctx.sysfs);
  while (!every_vf_pool_resolved(ctx.config, pfs) && ctx.clock.now() - started < wait_for_pfs) {
    ctx.clock.sleep_for(std::chrono::milliseconds(100));
    pfs = resolve_pool_pfs(ctx.config, ctx.sysfs);
  }
  if (const auto waited = ctx.clock.now() - started; waited > Clock::Duration{}) {
    ctx.log.info(
        "vfs apply: waited " +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()) +
        " ms for the pools' PFs to appear");
  }
  auto read = read_holdings(ctx.store);
  if (!read) {
    report.problems.push_back(read.error().message);
    return report;
  }
  const std::vector<Claim>& claims = read->claims;
  const std::vector<Reservation>& reservations = read->reservations;
  for (const Pool& pool : ctx.config.pools) {
    if (pool.mode != PoolMode::vf) continue;
    if (std::string unresolved = pfs.unresolved_text(&pool); !unresolved.empty())
      report.problems.push_back(unresolved);
    for (const PciAddress& pf : pfs.pfs_of(pool))
      provision_pf(pool, pf, ctx, claims, reservations, report);
  }
  for (const std::string& change : report.changes) ctx.log.info("vfs apply: " + change);
  for (const std::string& problem : report.problems) ctx.log.warning("vfs apply: " + problem);
  return report;
}

}  // namespace vfhook

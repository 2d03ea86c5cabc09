#include "engine/failover_parking.h"

#include "engine/claims.h"
#include "engine/decision_log.h"
#include "engine/vf_restore.h"
#include "util/printable.h"
#include "vfio/vf_control.h"

namespace vfhook {
namespace {

enum class Direction { park, unpark };

FailoverParking set_macs(const std::string& domain, const std::vector<PciAddress>& vfs,
                         Direction direction, EngineContext& ctx) {
  FailoverParking result;
  const std::string who = "domain " + printable(domain, 255);
  auto holdings = read_holdings(ctx.store);
  if (!holdings) {
    for (const PciAddress& vf : vfs)
      result.problems.push_back(vf.to_string() + ": " + holdings.error().message);
    return result;
  }
  for (const PciAddress& vf : vfs) {
    const Claim* claim = nullptr;
    for (const Claim& candidate : holdings->claims)
      if (candidate.vf == vf) claim = &candidate;
    if (!claim || claim->domain != domain || claim->vf_index < 0 || !claim->mac) {
      result.problems.push_back(vf.to_string() + ": " +
                                (!claim ? "not claimed on this host"
                                 : claim->domain != domain
                                     ? "claimed by domain '" + printable(claim->domain, 255) + "'"
                                 : claim->vf_index < 0 ? "a whole device, not a VF"
                                                       : std::string("its claim records no MAC")) +
                                "; left as it is");
      continue;
    }
    const std::string port =
        "PF " + claim->pf + " VF " + std::to_string(claim->vf_index) + " (" + vf.to_string() + ")";
    const MacAddress wanted = direction == Direction::park ? idle_mac_for(vf) : *claim->mac;
    auto current = read_vf(ctx.netlink, claim->pf, claim->vf_index);
    if (!current) {
      result.problems.push_back(current.error().with_context(port).message);
      continue;
    }
    if (current->mac == wanted) continue;
    VfSettings settings;
    settings.mac = wanted;
    if (auto set = apply_vf_settings(ctx.netlink, claim->pf, claim->vf_index, settings); !set) {
      result.problems.push_back(set.error().with_context(port).message);
      ctx.log.record(claim_entry(LogLevel::warning,
                                 who + ": " + port + ": could not set MAC " + wanted.to_string() +
                                     ": " + set.error().message,
                                 log_outcome::problem, *claim));
      continue;
    }
    ctx.log.record(claim_entry(
        LogLevel::info,
        direction == Direction::park
            ? who + ": " + port + " left the guest for its migration: parked with MAC " +
                  wanted.to_string() + " (it held " + claim->mac->to_string() + ")"
            : who + ": " + port + " goes back into the guest (its migration failed): MAC " +
                  wanted.to_string() + " again",
        direction == Direction::park ? log_outcome::parked : log_outcome::unparked, *claim));
    result.changed.push_back({vf, claim->pf, claim->vf_index, wanted});
  }
  return result;
}

}  // namespace

FailoverParking park_failover_vfs(const std::string& domain, const std::vector<PciAddress>& vfs,
                                  EngineContext& ctx) {
  return set_macs(domain, vfs, Direction::park, ctx);
}

FailoverParking unpark_failover_vfs(const std::string& domain, const std::vector<PciAddress>& vfs,
                                    EngineContext& ctx) {
  return set_macs(domain, vfs, Direction::unpark, ctx);
}

}  // namespace vfhook

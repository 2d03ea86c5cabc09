#include "policy/allocator.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace vfhook {

Result<AllocCandidate> choose_vf(const Pool& pool, const std::vector<AllocCandidate>& candidates,
                                 const std::vector<Claim>& claims,
                                 const std::vector<Reservation>& reservations,
                                 const std::string& domain,
                                 const std::vector<int>& guest_numa_nodes) {
  std::map<PciAddress, const Claim*> claimed;
  for (const Claim& claim : claims) claimed.emplace(claim.vf, &claim);
  std::map<PciAddress, const Reservation*> reserved;
  for (const Reservation& reservation : reservations)
    reserved.emplace(reservation.vf, &reservation);

  // Load of a PF: its claimed VFs. A claim's PF is the candidate's when the VF is one of ours
  // (sysfs is the truth), else the PF name the claim recorded.
  std::map<PciAddress, const AllocCandidate*> by_address;
  for (const AllocCandidate& c : candidates) by_address.emplace(c.vf, &c);
  std::map<std::string, int> load;
  for (const Claim& claim : claims) {
    auto it = by_address.find(claim.vf);
    ++load[it != by_address.end() ? it->second->pf_name : claim.pf];
  }

  int n_claimed = 0, n_reserved = 0, n_outside = 0, n_out_of_range = 0;
  const AllocCandidate* best = nullptr;
  auto key = [&](const AllocCandidate& c) {
    auto r = reserved.find(c.vf);
    const bool own_reservation = r != reserved.end() && r->second->domain == domain;
    const bool numa_local = std::find(guest_numa_nodes.begin(), guest_numa_nodes.end(),
                                      c.numa_node) != guest_numa_nodes.end();
    // Smaller is better.
    return std::make_tuple(!own_reservation, !numa_local, load[c.pf_name], c.pf_name, c.vf_index,
                           c.vf);
  };
  for (const AllocCandidate& c : candidates) {
    if (!pool.includes_vf_index(c.vf_index)) {
      ++n_out_of_range;
      continue;
    }
    if (claimed.count(c.vf)) {
      ++n_claimed;
      continue;
    }
    auto r = reserved.find(c.vf);
    if (r != reserved.end() && r->second->domain != domain) {
      ++n_reserved;
      continue;
    }
    if (c.used_outside_vfhook) {
      ++n_outside;
      continue;
    }
    if (!best || key(c) < key(*best)) best = &c;
  }
  if (best) return *best;

  std::string why;
  auto add = [&](int n, const std::string& text) {
    if (n == 0) return;
    why += (why.empty() ? "" : ", ") + std::to_string(n) + " " + text;
  };
  add(n_claimed, "claimed");
  add(n_reserved, "reserved by other domains");
  add(n_outside, "in use outside vfhook");
  if (n_out_of_range > 0 && pool.vf_range) {
    add(n_out_of_range, "outside vf_range " + pool.vf_range_text());
  }
  if (why.empty()) why = "no VFs found on its PFs (are they created? see sriov_numvfs)";
  return fail(ErrorKind::policy, "pool '" + pool.name + "' has no free VF: " + why);
}

}  // namespace vfhook

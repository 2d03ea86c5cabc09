#include "engine/port_allocation.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "engine/port_plan.h"
#include "util/printable.h"
#include "vfio/pci_topology.h"

namespace vfhook {
namespace {

Result<const Pool*> vf_pool(const VfRequest& request, EngineContext& ctx) {
  const Pool* pool = ctx.config.find_pool(request.pool);
  if (!pool)
    return fail(ErrorKind::not_found, "no pool '" + printable(request.pool, 64) +
                                          "' in the vfhook config (" +
                                          std::to_string(ctx.config.pools.size()) + " pools)");
  if (pool->mode != PoolMode::vf)
    return fail(ErrorKind::policy, "pool '" + pool->name +
                                       "' gives whole devices, not VFs: give the guest the "
                                       "device as a <hostdev>");
  return pool;
}

Result<std::vector<PciAddress>> pool_pf_addresses(const Pool& pool, EngineContext& ctx) {
  PoolPfs pfs = resolve_pool_pfs(ctx.config, ctx.sysfs);
  if (std::string unresolved = pfs.unresolved_text(&pool); !unresolved.empty())
    return fail(ErrorKind::policy, unresolved + ": fix the config before giving out its VFs");
  return pfs.pfs_of(pool);
}

bool contains(const std::vector<PciAddress>& list, const PciAddress& address) {
  return std::find(list.begin(), list.end(), address) != list.end();
}

// Every VF on the pool's PFs, as the allocator sees it, but those the domain already uses.
Result<std::vector<AllocCandidate>> candidates_of(const std::vector<PciAddress>& pf_addresses,
                                                  const VfRequest& request, EngineContext& ctx) {
  PciTopology topology(ctx.sysfs);
  std::vector<AllocCandidate> candidates;
  for (const PciAddress& pf_address : pf_addresses) {
    VF_ASSIGN(pf, topology.pf(pf_address.to_string()));
    for (const VfInfo& vf : pf.vfs) {
      if (contains(request.in_use_by_domain, vf.address)) continue;
      AllocCandidate candidate;
      candidate.vf = vf.address;
      candidate.pf_name = vf.pf_name;
      candidate.vf_index = vf.index;
      candidate.numa_node = vf.numa_node;
      // A VF whose netdev the host has up is in use outside vfhook (read under the device:
      // udev may rename a fresh VF's netdev meanwhile).
      if (vf.netdev) {
        VF_ASSIGN(up, topology.device_admin_up(vf.address));
        candidate.used_outside_vfhook = up;
      }
      candidates.push_back(std::move(candidate));
    }
  }
  return candidates;
}

// choose_vf over every VF of the pool's PFs (`candidates`, read from sysfs beforehand) and
// every claim and reservation.
Result<AllocCandidate> choose_by_full_read(const Pool& pool,
                                           const std::vector<AllocCandidate>& candidates,
                                           const VfRequest& request, StoreTransaction& txn) {
  VF_ASSIGN(claims, txn.claims());
  VF_ASSIGN(reservations, txn.reservations());
  return choose_vf(pool, candidates, claims, reservations, request.domain,
                   request.guest_numa_nodes);
}

// A PF of the pool as the shortcut first knows it: resolved from the pool's reference, with the
// interface the allocator orders it by (the reference itself when it is an interface name).
struct ResolvedPf {
  PciAddress address;
  std::string name;  // "" when the PF has no netdev
  bool named_by_ref = false;
};

// The pool's own references resolved as resolve_pool_pfs() resolves them, but with one lookup
// per interface name (the class/net link), failing with the same refusal when one does not
// resolve.
Result<std::vector<ResolvedPf>> resolve_pool(const Pool& pool, PciTopology& topology,
                                             Sysfs& sysfs) {
  PoolPfs unresolved;
  std::vector<ResolvedPf> pfs;
  auto add = [&](const PciAddress& address, std::string name, bool named_by_ref) {
    for (const ResolvedPf& pf : pfs)
      if (pf.address == address) return;
    pfs.push_back({address, std::move(name), named_by_ref});
  };
  for (const PoolPf& ref : pool.pfs) {
    if (auto parsed = PciAddress::parse(ref.ref)) {
      if (!sysfs.exists(pci_device_path(*parsed))) {
        unresolved.unresolved.push_back({&pool, ref.ref});
        continue;
      }
      VF_ASSIGN(name, topology.netdev(*parsed));
      add(*parsed, name.value_or(""), false);
    } else if (auto device = topology.device_of_netdev_by_class_link(ref.ref); device && *device) {
      add(**device, ref.ref, true);
    } else {
      unresolved.unresolved.push_back({&pool, ref.ref});
    }
  }
  if (std::string text = unresolved.unresolved_text(&pool); !text.empty())
    return fail(ErrorKind::policy, text + ": fix the config before giving out its VFs");
  return pfs;
}

// Where a PF's VFs are. A VF's routing ID is the PF's plus First VF Offset plus index times VF
// Stride (PCIe SR-IOV, the kernel's pci_iov_virtfn_bus/devfn), so every VF address follows
// from three attributes instead of one virtfn link per VF.
struct PfLayout {
  int num_vfs = 0;
  int vf0_rid = 0;  // routing ID (bus << 8 | devfn) of VF 0
  int stride = 1;
  int numa_node = -1;
  PciAddress address;

  [[nodiscard]] PciAddress vf_address(int index) const {
    const int rid = vf0_rid + index * stride;
    return PciAddress{address.domain, static_cast<uint8_t>(rid >> 8),
                      static_cast<uint8_t>((rid >> 3) & 0x1f), static_cast<uint8_t>(rid & 7)};
  }
  // The index of `vf` among this PF's VFs, by the same arithmetic.
  [[nodiscard]] std::optional<int> index_of(const PciAddress& vf) const {
    if (vf.domain != address.domain || num_vfs == 0) return std::nullopt;
    const int distance = ((vf.bus << 8) | (vf.slot << 3) | vf.function) - vf0_rid;
    if (distance < 0 || distance % stride != 0 || distance / stride >= num_vfs) return std::nullopt;
    return distance / stride;
  }
};

// nullopt when sysfs does not read as expected: the full read then decides (or says why not).
// The PF's NUMA node is read only for a pinned guest (`numa`): nothing else depends on it.
std::optional<PfLayout> read_layout(const ResolvedPf& pf, bool numa, Sysfs& sysfs,
                                    PciTopology& topology) {
  const std::string dev = pci_device_path(pf.address);
  auto read_int = [&](const char* attribute) -> std::optional<int> {
    auto text = sysfs.read(dev + "/" + attribute);
    if (!text) return std::nullopt;
    auto value = parse_sysfs_int(*text, attribute);
    if (!value) return std::nullopt;
    return *value;
  };
  const auto num_vfs = read_int("sriov_numvfs");
  const auto offset = read_int("sriov_offset");
  const auto stride = read_int("sriov_stride");
  if (!num_vfs || !offset || !stride || *num_vfs < 0 || *num_vfs > 65535 || *offset < 1 ||
      *stride < 1)
    return std::nullopt;
  PfLayout layout;
  layout.address = pf.address;
  if (numa) {
    auto node = topology.numa_node(pf.address);
    if (!node) return std::nullopt;
    layout.numa_node = *node;
  }
  layout.num_vfs = *num_vfs;
  layout.stride = *stride;
  layout.vf0_rid = ((pf.address.bus << 8) | (pf.address.slot << 3) | pf.address.function) + *offset;
  if (layout.num_vfs > 0 && layout.vf0_rid + (layout.num_vfs - 1) * layout.stride > 0xffff)
    return std::nullopt;
  return layout;
}

// Whether the PF's interface (its first netdev, as PciTopology::pf() names it) is the one the
// pool's reference named it by.
bool name_confirmed(const ResolvedPf& pf, PciTopology& topology) {
  if (!pf.named_by_ref) return true;  // read from sysfs already
  auto name = topology.netdev(pf.address);
  return name && name->value_or("") == pf.name;
}

// One VF the shortcut is about to choose, read as PciTopology::pf() reads every VF: its links
// back and forth to the PF (the virtfn link is the truth about which VF an index is), driver,
// IOMMU group, NUMA node and whether the host has its netdev up. nullopt when any of it reads
// otherwise than the arithmetic said, or fails: the full read then decides.
std::optional<AllocCandidate> inspect(const ResolvedPf& pf, int index, const PciAddress& vf,
                                      PciTopology& topology, Sysfs& sysfs) {
  auto last_address = [&](const std::string& link) -> std::optional<PciAddress> {
    auto target = sysfs.read_link(link);
    if (!target) return std::nullopt;
    const size_t slash = target->rfind('/');
    auto address =
        PciAddress::parse(slash == std::string::npos ? *target : target->substr(slash + 1));
    if (!address) return std::nullopt;
    return *address;
  };
  if (last_address(pci_device_path(pf.address) + "/virtfn" + std::to_string(index)) != vf ||
      last_address(pci_device_path(vf) + "/physfn") != pf.address)
    return std::nullopt;
  if (!topology.driver(vf) || !topology.iommu_group(vf)) return std::nullopt;
  auto numa = topology.numa_node(vf);
  auto netdev = topology.netdev(vf);
  if (!numa || !netdev) return std::nullopt;
  AllocCandidate candidate{vf, pf.name, index, *numa, false};
  if (*netdev) {
    auto up = topology.device_admin_up(vf);
    if (!up) return std::nullopt;
    candidate.used_outside_vfhook = *up;
  }
  return candidate;
}

// The shortcut: choose_vf's rules (policy/allocator.h) applied to as little of sysfs and the
// store as they need. The domain's own reservations come first, as in the rules. Then PFs are
// visited in the order the rules prefer them (NUMA-local, fewest claims, lowest name), reading
// each PF's attributes only when it is visited, and each PF's VFs by index: the first VF
// without a claim or reservation that is eligible is the one choose_vf picks, and only that
// VF's own entries are read.
//
// The order is decided before the PFs are read, from the names in the pool's references and
// the PF names the claims recorded. What the shortcut then reads must confirm it, or the full
// read decides (nullopt):
//   - the chosen PF's first netdev is the interface the pool names it by;
//   - the chosen PF's claims are exactly the claims that recorded its name (no claim of its
//     VFs recorded under another name, as after a rename, and none under its name elsewhere);
//   - the chosen VF's virtfn and physfn links match the arithmetic, and its NUMA node is local
//     exactly when its PF's is (the order took the PF's node for its VFs', as the kernel sets
//     it);
//   - two PFs do not share a name (the tie-break would mix their VFs by index);
//   - some VF is free (the full read counts why not, for the refusal).
// Not confirmed: a PF that is not chosen is assumed to carry the claims recorded under its
// name, and to have no netdev sorting before the one the pool names it by.
Result<std::optional<AllocCandidate>> choose_by_shortcut(const Pool& pool,
                                                         const std::vector<ResolvedPf>& pool_pfs,
                                                         const VfRequest& request,
                                                         EngineContext& ctx,
                                                         StoreTransaction& txn) {
  using Undecided = std::optional<AllocCandidate>;
  PciTopology topology(ctx.sysfs);
  std::set<std::string> names;
  for (const ResolvedPf& pf : pool_pfs)
    if (!names.insert(pf.name).second) return Undecided();
  const std::vector<int>& guest_nodes = request.guest_numa_nodes;
  auto local = [&](int node) {
    return std::find(guest_nodes.begin(), guest_nodes.end(), node) != guest_nodes.end();
  };
  std::map<PciAddress, std::optional<PfLayout>> layouts;
  auto layout_of = [&](const ResolvedPf& pf) -> const std::optional<PfLayout>& {
    auto it = layouts.find(pf.address);
    if (it == layouts.end())
      it = layouts.emplace(pf.address, read_layout(pf, !guest_nodes.empty(), ctx.sysfs, topology))
               .first;
    return it->second;
  };

  // Loads as the claims recorded them; confirmed below for the PF that is chosen.
  VF_ASSIGN(sites, txn.claim_sites());
  std::map<std::string, int> load;
  for (const ClaimSite& site : sites) ++load[site.pf];
  // choose_vf counts a claim of one of the PF's VFs for the PF, any other claim for the name
  // it recorded: the two agree when every claim of its VFs recorded its name and no claim of
  // another VF did (a VF the domain already uses is no candidate: counted by name).
  auto load_confirmed = [&](const ResolvedPf& pf, const PfLayout& layout) {
    for (const ClaimSite& site : sites) {
      const bool ours = layout.index_of(site.vf) && !contains(request.in_use_by_domain, site.vf);
      if (ours != (site.pf == pf.name) &&
          !(site.pf == pf.name && !ours && contains(request.in_use_by_domain, site.vf)))
        return false;
    }
    return true;
  };
  auto key = [&](const AllocCandidate& c) {
    return std::make_tuple(!local(c.numa_node), load[c.pf_name], c.pf_name, c.vf_index, c.vf);
  };

  // 1. The domain's own reservations on the pool's PFs: the best one still eligible.
  VF_ASSIGN(own, txn.reservations_of(request.domain));
  std::optional<AllocCandidate> best_own;
  for (const Reservation& reservation : own) {
    if (contains(request.in_use_by_domain, reservation.vf)) continue;
    // Which PF: the VF's physfn link, then the arithmetic (inspect() checks the virtfn link).
    auto physfn = ctx.sysfs.read_link(pci_device_path(reservation.vf) + "/physfn");
    if (!physfn) continue;  // not a VF (any more): no candidate of the full read either
    auto pf_address = PciAddress::parse(physfn->substr(physfn->rfind('/') + 1));
    if (!pf_address) return Undecided();
    auto pf = std::find_if(pool_pfs.begin(), pool_pfs.end(),
                           [&](const ResolvedPf& p) { return p.address == *pf_address; });
    if (pf == pool_pfs.end()) continue;
    const std::optional<PfLayout>& layout = layout_of(*pf);
    if (!layout) return Undecided();
    auto index = layout->index_of(reservation.vf);
    if (!index) return Undecided();
    if (!pool.includes_vf_index(*index)) continue;
    VF_ASSIGN(holding, txn.holding(reservation.vf));
    if (holding.claim) continue;
    auto candidate = inspect(*pf, *index, reservation.vf, topology, ctx.sysfs);
    if (!candidate || !load_confirmed(*pf, *layout) || !name_confirmed(*pf, topology))
      return Undecided();
    if (candidate->used_outside_vfhook) continue;
    if (!best_own || key(*candidate) < key(*best_own)) best_own = std::move(candidate);
  }
  if (best_own) return best_own;

  // 2. The other VFs: PFs by fewest claims then name, VFs by index, the first eligible one
  // without a claim or reservation (the domain's own reservations are not eligible here). A
  // pinned guest takes the first such VF on a local PF; only when there is none, the first on
  // any PF.
  std::vector<const ResolvedPf*> order;
  for (const ResolvedPf& pf : pool_pfs) order.push_back(&pf);
  std::sort(order.begin(), order.end(), [&](const ResolvedPf* a, const ResolvedPf* b) {
    return std::make_tuple(load[a->name], a->name) < std::make_tuple(load[b->name], b->name);
  });
  std::optional<AllocCandidate> first_remote;
  for (const ResolvedPf* pf : order) {
    const std::optional<PfLayout>& layout = layout_of(*pf);
    if (!layout) return Undecided();
    const bool pf_local = local(layout->numa_node);
    if (!guest_nodes.empty() && !pf_local && first_remote) continue;
    if (layout->num_vfs == 0) continue;
    VF_ASSIGN(held,
              txn.held_between(layout->vf_address(0), layout->vf_address(layout->num_vfs - 1)));
    for (int index = 0; index < layout->num_vfs; ++index) {
      if (!pool.includes_vf_index(index)) continue;
      const PciAddress vf = layout->vf_address(index);
      if (std::binary_search(held.begin(), held.end(), vf) ||
          contains(request.in_use_by_domain, vf))
        continue;
      auto candidate = inspect(*pf, index, vf, topology, ctx.sysfs);
      if (!candidate || local(candidate->numa_node) != pf_local || !load_confirmed(*pf, *layout) ||
          !name_confirmed(*pf, topology))
        return Undecided();
      if (candidate->used_outside_vfhook) continue;
      if (guest_nodes.empty() || pf_local) return candidate;
      first_remote = std::move(candidate);
      break;
    }
  }
  return first_remote;  // nullopt when nothing is free: the full read says why
}

enum class Then { choose_only, reserve };

// The shortcut first; the full read when it cannot decide. Each runs in one transaction, which
// also records the reservation when asked.
Result<AllocCandidate> choose(const VfRequest& request, EngineContext& ctx, Then then,
                              bool* newly_reserved) {
  VF_ASSIGN(pool, vf_pool(request, ctx));
  PciTopology topology(ctx.sysfs);
  VF_ASSIGN(pool_pfs, resolve_pool(*pool, topology, ctx.sysfs));
  auto record = [&](StoreTransaction& txn, const AllocCandidate& chosen) -> Status {
    if (then == Then::choose_only) return ok();
    VF_ASSIGN(holding, txn.holding(chosen.vf));
    if (holding.reservation) return ok();  // the domain's own: chosen, hence not another's
    if (newly_reserved) *newly_reserved = true;
    return txn.add_reservation(Reservation{chosen.vf, request.domain, request.pool});
  };
  std::optional<AllocCandidate> chosen;
  VF_TRY(ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(shortcut, choose_by_shortcut(*pool, pool_pfs, request, ctx, txn));
    if (!shortcut) return ok();
    chosen = std::move(shortcut);
    return record(txn, *chosen);
  }));
  if (chosen) return *chosen;

  VF_ASSIGN(pf_addresses, pool_pf_addresses(*pool, ctx));
  VF_ASSIGN(candidates, candidates_of(pf_addresses, request, ctx));
  VF_TRY(ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(vf, choose_by_full_read(*pool, candidates, request, txn));
    chosen = std::move(vf);
    return record(txn, *chosen);
  }));
  return *chosen;
}

}  // namespace

Result<AllocCandidate> choose_free_vf(const VfRequest& request, EngineContext& ctx) {
  return choose(request, ctx, Then::choose_only, nullptr);
}

Result<AllocCandidate> choose_and_reserve_vf(const VfRequest& request, EngineContext& ctx,
                                             bool* newly_reserved) {
  if (newly_reserved) *newly_reserved = false;
  return choose(request, ctx, Then::reserve, newly_reserved);
}

Result<AllocCandidate> choose_free_vf_by_full_read(const VfRequest& request, EngineContext& ctx) {
  VF_ASSIGN(pool, vf_pool(request, ctx));
  VF_ASSIGN(pf_addresses, pool_pf_addresses(*pool, ctx));
  VF_ASSIGN(candidates, candidates_of(pf_addresses, request, ctx));
  std::optional<AllocCandidate> chosen;
  VF_TRY(ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(vf, choose_by_full_read(*pool, candidates, request, txn));
    chosen = std::move(vf);
    return ok();
  }));
  return *chosen;
}

Status reserve_vf(const PciAddress& vf, const VfRequest& request, EngineContext& ctx) {
  return ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(holding, txn.holding(vf));
    if (holding.claim && holding.claim->domain != request.domain)
      return fail(ErrorKind::conflict, "VF " + vf.to_string() + " was just claimed by domain '" +
                                           printable(holding.claim->domain, 255) + "'; try again");
    if (holding.reservation) {
      if (holding.reservation->domain != request.domain)
        return fail(ErrorKind::conflict,
                    "VF " + vf.to_string() + " was just reserved for domain '" +
                        printable(holding.reservation->domain, 255) + "'; try again");
      return ok();  // already ours
    }
    return txn.add_reservation(Reservation{vf, request.domain, request.pool});
  });
}

Status drop_reservation(const PciAddress& vf, const std::string& domain, EngineContext& ctx) {
  return ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(holding, txn.holding(vf));
    if (!holding.reservation) return ok();
    if (holding.reservation->domain != domain)
      return fail(ErrorKind::conflict, "VF " + vf.to_string() + " is reserved for domain '" +
                                           printable(holding.reservation->domain, 255) +
                                           "', not '" + printable(domain, 255) + "'");
    return txn.remove_reservation(vf);
  });
}

}  // namespace vfhook

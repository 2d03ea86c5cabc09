#include "engine/port_plan.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "util/printable.h"
#include "vfio/driver_binding.h"
#include "vfio/pci_topology.h"

namespace vfhook {
namespace {

std::string ranges_text(const std::vector<VlanRange>& ranges) {
  std::string text;
  for (const auto& r : ranges) {
    if (!text.empty()) text += ", ";
    text += std::to_string(r.first);
    if (r.last != r.first) {
      // Two appends, not "-" + std::to_string(...): g++ 12 at -O3 reports a false -Wrestrict
      // on operator+(const char*, std::string&&) (GCC bug 105651, fixed in g++ 13).
      text += '-';
      text += std::to_string(r.last);
    }
  }
  return text.empty() ? "none" : text;
}

// "pools 'a' and 'b'".
std::string pools_text(const std::vector<const Pool*>& pools) {
  std::string text = "pools ";
  for (size_t i = 0; i < pools.size(); ++i) {
    if (i > 0) text += i + 1 == pools.size() ? " and " : ", ";
    text += "'" + pools[i]->name + "'";
  }
  return text;
}

// A refusal for a port on a PF that two pools list (under two spellings: the config refuses
// one spelling twice), or nullopt.
std::optional<Refusal> two_pools_refusal(const std::string& who, const PciAddress& pf,
                                         const PoolPfs& pools) {
  auto it = pools.pools_by_pf.find(pf);
  if (it == pools.pools_by_pf.end() || it->second.size() < 2) return std::nullopt;
  return Refusal{who, "PF " + pf.to_string() + " is listed by " + pools_text(it->second) +
                          " (by interface name in one and PCI address in another); a PF may be "
                          "in one pool only, or the pools' policies contradict each other. Fix "
                          "the vfhook config."};
}

// A pool that shares a PF with another pool, and that PF.
std::optional<Refusal> pool_shares_pf_refusal(const std::string& who, const Pool& pool,
                                              const PoolPfs& pools) {
  for (const auto& pf : pools.pfs_of(pool))
    if (auto refusal = two_pools_refusal(who, pf, pools)) return refusal;
  return std::nullopt;
}

std::string vlan_text(const Vlan& vlan) {
  std::string text = "VLAN " + std::to_string(vlan.id);
  if (vlan.protocol == VlanProtocol::dot1ad) text += " (802.1ad)";
  return text;
}

// Names `pool` in every refusal added since `first` that names none yet, when the scope ends
// (whichever `continue` ends a port's checks).
class RefusalPoolTag {
 public:
  RefusalPoolTag(std::vector<Refusal>& refusals, const std::string& pool)
      : refusals_(refusals), first_(refusals.size()), pool_(pool) {}
  RefusalPoolTag(const RefusalPoolTag&) = delete;
  RefusalPoolTag& operator=(const RefusalPoolTag&) = delete;
  ~RefusalPoolTag() {
    for (size_t i = first_; i < refusals_.size(); ++i)
      if (refusals_[i].pool.empty()) refusals_[i].pool = pool_;
  }

 private:
  std::vector<Refusal>& refusals_;
  size_t first_;
  const std::string& pool_;  // read at the end: the caller may learn the pool meanwhile
};

// The VLAN, trust, spoofchk and MAC rules of a pool; appends a refusal line per violation.
void check_port_policy(const std::string& who, const VfPort& port, const PortRecord* record,
                       const Pool& pool, const HostConfig& config, std::optional<Vlan>& vlan,
                       std::vector<Refusal>& refusals) {
  std::optional<Vlan> record_vlan = record ? record->vlan : std::nullopt;
  if (record_vlan && record_vlan->id == 0) record_vlan.reset();
  if (record_vlan && port.vlan_tag && *port.vlan_tag != record_vlan->id) {
    refusals.push_back({who, "its <vlan> tag " + std::to_string(*port.vlan_tag) +
                                 " and its vfhook port record (VLAN " +
                                 std::to_string(record_vlan->id) +
                                 ") disagree. Make them the same, or drop the <vlan> element."});
    return;
  }
  vlan = record_vlan;
  if (!vlan && port.vlan_tag && *port.vlan_tag != 0) vlan = Vlan{*port.vlan_tag, 0, {}};

  if (vlan) {
    if (config.is_host_bridge_vlan(vlan->id)) {
      refusals.push_back({who, vlan_text(*vlan) +
                                   " is reserved for the host's own bridges (host_bridge_vlans: " +
                                   ranges_text(config.host_bridge_vlans) +
                                   "); a guest may not join it. Use a VLAN of pool '" + pool.name +
                                   "' (" + ranges_text(pool.vlans) + ")."});
    } else if (pool.flat) {
      refusals.push_back({who, "pool '" + pool.name + "' is flat (untagged only), but the port " +
                                   "asks for " + vlan_text(*vlan) +
                                   ". Remove the VLAN or use a VLAN pool."});
    } else if (!pool.allows_vlan(vlan->id)) {
      refusals.push_back(
          {who, vlan_text(*vlan) + " is outside pool '" + pool.name +
                    "' (allowed: " + ranges_text(pool.vlans) +
                    "). Use a VLAN of the pool, or ask the host's administrator to widen "
                    "the pool in the vfhook config."});
    }
  } else if (!pool.flat) {
    refusals.push_back(
        {who, "pool '" + pool.name + "' carries VLANs (" + ranges_text(pool.vlans) +
                  ") and the port names none; an untagged VF there could send on any VLAN. "
                  "Set vlan= in the port's vfhook record."});
  }

  bool trust = record && record->trust ? *record->trust : pool.trust;
  if (trust && !pool.allow_trust) {
    refusals.push_back(
        {who, "it asks for trust on, but pool '" + pool.name +
                  "' does not allow trusted VFs (allow_trust = false): a trusted VF may "
                  "change its MAC and receive all multicast. Remove trust=\"on\" from the "
                  "port record, or use a pool that allows trust."});
  }
  bool spoofchk = record && record->spoofchk ? *record->spoofchk : pool.spoofchk;
  if (!spoofchk && !pool.allow_spoofchk_off) {
    refusals.push_back({who, "it asks for spoofchk off, but pool '" + pool.name +
                                 "' does not allow it (allow_spoofchk_off = false): a VF without "
                                 "spoof checking may send frames with any source MAC, posing as "
                                 "another guest or the host. Remove spoofchk=\"off\" from the "
                                 "port record, or ask the host's administrator for a pool with "
                                 "allow_spoofchk_off = true."});
  }
  if (port.mac && (port.mac->is_multicast() || port.mac->is_zero())) {
    refusals.push_back({who, "MAC " + port.mac->to_string() +
                                 " is not a unicast address; give the interface a unicast MAC."});
  }
}

// virtio-net failover pairs (the VF interface with <teaming type='transient' persistent=A>
// and the virtio interface with alias A and <teaming type='persistent'/>), checked at prepare:
// QEMU starts with a broken pair, and the guest finds out at the first migration. The
// domain's other interfaces and guest addresses are read once, and only for a teamed port.
class FailoverPairs {
 public:
  explicit FailoverPairs(const DomainXml& domain) : domain_(domain) {}

  void check(const std::string& who, const VfPort& port, std::vector<Refusal>& refusals) {
    if (!port.teamed()) return;
    if (!read_) read();
    const std::string& alias = *port.teaming_persistent;
    const std::string teaming = "<teaming type='transient' persistent='" + alias + "'>";
    if (!error_.empty()) {
      refusals.push_back(
          {who, "its " + teaming + " cannot be checked: " + error_ + ". Fix the domain XML."});
      return;
    }
    // One virtio interface stands in for one VF: QEMU pairs a failover primary with one
    // standby.
    if (auto [first, inserted] = partnered_.emplace(alias, who); !inserted) {
      refusals.push_back({who, "its " + teaming + " names the same virtio interface as " +
                                   first->second +
                                   "; each VF needs a virtio partner of its own. Give this "
                                   "VF interface its own virtio interface, or remove its "
                                   "<teaming>."});
      return;
    }
    const PlainInterface* partner = nullptr;
    for (const PlainInterface& iface : interfaces_)
      if (iface.alias == alias) partner = &iface;
    if (partner == nullptr) {
      const bool names_vf = std::any_of(domain_.vf_ports().begin(), domain_.vf_ports().end(),
                                        [&](const VfPort& p) { return p.alias == alias; });
      refusals.push_back(
          {who, "its " + teaming + " names " +
                    (names_vf ? "another VF port; the persistent side of virtio-net failover "
                                "is a virtio interface"
                              : "no interface of the domain") +
                    ". Give the virtio interface with this port's MAC <alias name='" + alias +
                    "'/> and <teaming type='persistent'/>, or remove <teaming> from this VF "
                    "interface."});
      return;
    }
    if (!partner->teaming_persistent) {
      refusals.push_back({who, "its " + teaming + " names " + partner->describe() +
                                   ", which has no <teaming type='persistent'/>: QEMU would not "
                                   "pair them. Add <teaming type='persistent'/> to " +
                                   partner->describe() + "."});
      return;
    }
    if (!partner->model.empty() && partner->model.rfind("virtio", 0) != 0) {
      refusals.push_back({who, "its failover partner " + partner->describe() + " has model '" +
                                   partner->model +
                                   "'; virtio-net failover needs <model type='virtio'/> there."});
    }
    if (!port.mac || !partner->mac || *port.mac != *partner->mac) {
      refusals.push_back(
          {who, "its MAC (" + (port.mac ? port.mac->to_string() : std::string("none")) +
                    ") and its failover partner " + partner->describe() + "'s (" +
                    (partner->mac ? partner->mac->to_string() : std::string("none")) +
                    ") differ: the guest's failover driver pairs the two by MAC. Give both "
                    "interfaces the same <mac address>."});
    }
    if (port.guest_address) check_own_bus(who, *port.guest_address, refusals);
  }

 private:
  void read() {
    read_ = true;
    auto interfaces = domain_.plain_interfaces();
    if (!interfaces) {
      error_ = interfaces.error().message;
      return;
    }
    interfaces_ = std::move(*interfaces);
    auto devices = domain_.guest_pci_devices();
    if (!devices) {
      error_ = devices.error().message;
      return;
    }
    devices_ = std::move(*devices);
  }

  // QEMU unplugs the VF at migration by the hotplug slot it sits in: a pcie-root-port of its
  // own. A device beside it on the same bus, or the root bus (no hotplug at all), breaks that.
  void check_own_bus(const std::string& who, const PciAddress& at, std::vector<Refusal>& refusals) {
    std::string others;
    bool self_seen = false;
    for (const GuestPciDevice& device : devices_) {
      if (device.address.domain != at.domain || device.address.bus != at.bus) continue;
      if (device.address == at && !self_seen) {
        self_seen = true;  // the VF interface itself
        continue;
      }
      if (!others.empty()) others += ", ";
      others += device.describe();
    }
    char bus[8];
    std::snprintf(bus, sizeof bus, "%02x", at.bus);
    if (at.bus == 0) {
      refusals.push_back({who, "its guest address " + at.to_string() +
                                   " is on the root bus (bus 00), where QEMU cannot unplug it "
                                   "at migration. Put the VF interface on a pcie-root-port of "
                                   "its own, or remove its <address> and let libvirt place it."});
    } else if (!others.empty()) {
      refusals.push_back({who, "its guest address " + at.to_string() + " shares bus " + bus +
                                   " with " + others +
                                   ": QEMU unplugs the VF at migration through a pcie-root-port "
                                   "of its own. Move the other devices off bus " +
                                   bus +
                                   ", or remove the VF interface's <address> and let "
                                   "libvirt give it a root port."});
    }
  }

  const DomainXml& domain_;
  bool read_ = false;
  std::string error_;
  std::vector<PlainInterface> interfaces_;
  std::vector<GuestPciDevice> devices_;
  std::map<std::string, std::string> partnered_;  // persistent alias -> the first VF port
};

}  // namespace

void check_port_against_pool(const std::string& who, const VfPort& port, const PortRecord* record,
                             const Pool& pool, const HostConfig& config,
                             std::vector<Refusal>& refusals) {
  std::optional<Vlan> vlan;
  RefusalPoolTag tag(refusals, pool.name);
  check_port_policy(who, port, record, pool, config, vlan, refusals);
}

std::string PlannedPort::describe() const {
  std::string text = port.describe();
  if (const VfFunction* v = vf())
    text +=
        " (PF " + v->pf_name + " VF " + std::to_string(v->index) + ", " + device.to_string() + ")";
  else
    text += " (" + device.to_string() + ")";
  return text;
}

const Pool* PoolPfs::pool_of(const PciAddress& pf, PoolMode mode) const {
  auto it = pools_by_pf.find(pf);
  if (it == pools_by_pf.end()) return nullptr;
  for (const Pool* pool : it->second)
    if (pool->mode == mode) return pool;
  return nullptr;
}

bool PoolPfs::lists(const Pool& pool, const PciAddress& pf) const {
  auto it = pools_by_pf.find(pf);
  if (it == pools_by_pf.end()) return false;
  for (const Pool* listed : it->second)
    if (listed == &pool) return true;
  return false;
}

std::vector<PciAddress> PoolPfs::pfs_of(const Pool& pool) const {
  std::vector<PciAddress> pfs;
  for (const auto& [pf, listed] : pools_by_pf)
    if (lists(pool, pf)) pfs.push_back(pf);
  return pfs;
}

std::string PoolPfs::unresolved_text(const Pool* pool) const {
  std::string text;
  for (const auto& u : unresolved) {
    if (pool && u.pool != pool) continue;
    if (!text.empty()) text += "; ";
    text += "pool '" + u.pool->name + "' lists PF '" + printable(u.ref) +
            "', which is no PCI device on this host";
  }
  return text;
}

PoolPfs resolve_pool_pfs(const HostConfig& config, Sysfs& sysfs) {
  PoolPfs resolved;
  PciTopology topology(sysfs);
  for (const Pool& pool : config.pools) {
    for (const PoolPf& pf : pool.pfs) {
      std::optional<PciAddress> address;
      if (auto parsed = PciAddress::parse(pf.ref)) {
        if (sysfs.exists(pci_device_path(*parsed))) address = *parsed;
      } else if (auto device = topology.device_of_netdev_by_class_link(pf.ref); device) {
        address = *device;
      }
      if (!address) {
        resolved.unresolved.push_back({&pool, pf.ref});
        continue;
      }
      auto& listed = resolved.pools_by_pf[*address];
      if (std::find(listed.begin(), listed.end(), &pool) == listed.end()) listed.push_back(&pool);
    }
  }
  return resolved;
}

namespace {

// The PF of a VF pool given to a guest whole: libvirt (managed='yes', or a hostdev interface)
// would detach it from the host, and every VF on it from the guests using them.
Result<std::optional<Refusal>> vf_pool_pf_refusal(const std::string& who, const PciAddress& device,
                                                  const PoolPfs& pools, PciTopology& topology,
                                                  EngineContext& ctx) {
  const Pool* pool = pools.pool_of(device, PoolMode::vf);
  if (!pool) return std::optional<Refusal>{};
  // A PF that sysfs cannot describe (not SR-IOV capable, say) is still refused, by address.
  auto pf = topology.pf(device.to_string());
  const std::string pf_name = pf && !pf->name.empty() ? pf->name : device.to_string();
  const std::vector<VfInfo> vfs = pf ? pf->vfs : std::vector<VfInfo>{};
  std::vector<Claim> claims;
  VF_TRY(ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(all, txn.claims());
    claims = std::move(all);
    return ok();
  }));
  std::string at_stake;
  for (const VfInfo& vf : vfs) {
    if (!at_stake.empty()) at_stake += ", ";
    at_stake += vf.address.to_string();
    for (const Claim& claim : claims)
      if (claim.vf == vf.address)
        at_stake += " (used by domain '" + printable(claim.domain, 255) + "')";
  }
  if (at_stake.empty()) at_stake = "none now";
  return std::optional<Refusal>(Refusal{
      who, "this device is PF " + pf_name + ", which backs pool '" + pool->name +
               "': given to a guest, it is detached from the host, and every VF on it from the "
               "guests using them (VFs at stake: " +
               at_stake + "). Give the guest a VF of pool '" + pool->name +
               "', or take the PF out of the pool in the vfhook config first."});
}

}  // namespace

Result<PortPlan> plan_ports(const DomainXml& domain, EngineContext& ctx, Stage stage) {
  PortPlan plan;
  auto records = domain.port_records();
  if (!records) {
    plan.refusals.push_back(
        {"", "its vfhook port records are invalid: " + records.error().message});
    return plan;
  }
  PciTopology topology(ctx.sysfs);
  plan.pools = resolve_pool_pfs(ctx.config, ctx.sysfs);
  const PoolPfs& pools = plan.pools;
  FailoverPairs failover(domain);
  // The pairing is checked before QEMU starts (prepare, and the migrate hook's check of the
  // definition it hands on); start and reconnect see a domain that already passed.
  auto check_failover = [&](const std::string& who, const VfPort& port) {
    if (stage == Stage::prepare) failover.check(who, port, plan.refusals);
  };
  auto unknown_pool = [](const std::string& who, const PortRecord& record) {
    return Refusal{who, "its port record names pool '" + record.pool +
                            "', which this host does not define. Fix the record or add the "
                            "pool to the vfhook config."};
  };

  for (const VfPort& port : domain.vf_ports()) {
    const PortRecord* record = find_record(*records, port);
    std::string who = port.describe();
    // Every refusal of this port names its pool once the pool is known (the log's POOL).
    std::string pool_name = record ? record->pool : std::string();
    RefusalPoolTag tag(plan.refusals, pool_name);

    if (!port.host) {
      // A hostdev-network interface before libvirt picked its VF (prepare): only the record
      // can be checked now; start sees the VF.
      if (!record) continue;
      const Pool* pool = ctx.config.find_pool(record->pool);
      if (!pool) {
        plan.refusals.push_back(unknown_pool(who, *record));
        continue;
      }
      if (auto shared = pool_shares_pf_refusal(who, *pool, pools)) {
        plan.refusals.push_back(*shared);
        continue;
      }
      std::optional<Vlan> vlan;
      check_port_policy(who, port, record, *pool, ctx.config, vlan, plan.refusals);
      check_failover(who, port);
      if (std::find(plan.libvirt_chooses_from.begin(), plan.libvirt_chooses_from.end(), pool) ==
          plan.libvirt_chooses_from.end())
        plan.libvirt_chooses_from.push_back(pool);
      if (stage != Stage::prepare)
        ctx.log.warning("domain " + printable(domain.name(), 255) + ": " + who +
                        " has no VF yet at " + (stage == Stage::start ? "start" : "reconnect"));
      continue;
    }

    PlannedPort planned;
    planned.port = port;
    if (record) planned.record = *record;
    planned.device = *port.host;

    VF_ASSIGN(vf, with_context(topology.vf(planned.device), who));
    const Pool* pool = nullptr;
    PciAddress pf_address = planned.device;  // the PF whose pools decide: the device's own if whole
    if (vf) {
      planned.function = VfFunction{vf->pf, vf->pf_name, vf->index};
      planned.iommu_group = vf->iommu_group;
      planned.driver = vf->driver;
      planned.host_netdev = vf->netdev;
      pf_address = vf->pf;
      who = planned.describe();
      pool = record ? ctx.config.find_pool(record->pool) : pools.pool_of(vf->pf, PoolMode::vf);
    } else {
      who = planned.describe();
      pool =
          record ? ctx.config.find_pool(record->pool) : pools.pool_of(planned.device, PoolMode::pf);
    }

    if (auto shared = two_pools_refusal(who, pf_address, pools)) {
      plan.refusals.push_back(*shared);
      continue;
    }
    if (!vf) {
      VF_ASSIGN(backing, vf_pool_pf_refusal(who, planned.device, pools, topology, ctx));
      if (backing) {
        plan.refusals.push_back(*backing);
        continue;
      }
    }
    if (record && !pool) {
      plan.refusals.push_back(unknown_pool(who, *record));
      continue;
    }
    if (!pool) {
      // In no pool. That is libvirt's business only when every pool's PFs are known: with a
      // PF reference that resolves to nothing, this device may well be the one it meant.
      std::string unresolved;
      std::vector<const Pool*> named;
      for (const auto& u : pools.unresolved) {
        if (u.pool->mode != (vf ? PoolMode::vf : PoolMode::pf)) continue;
        if (std::find(named.begin(), named.end(), u.pool) != named.end()) continue;
        named.push_back(u.pool);
        if (!unresolved.empty()) unresolved += "; ";
        unresolved += pools.unresolved_text(u.pool);
      }
      if (!unresolved.empty()) {
        plan.refusals.push_back(
            {who,
             std::string(vf ? "its PF " + (vf->pf_name.empty() ? vf->pf.to_string() : vf->pf_name) +
                                  " (" + vf->pf.to_string() + ")"
                            : "this device") +
                 " is in no vfhook pool, but " + unresolved +
                 ": it may be meant, and a device of a pool must not go out without the "
                 "pool's policy. Fix the PF reference in the vfhook config (an interface "
                 "name or PCI address of this host), or remove it."});
        continue;
      }
      ctx.log.info("domain " + printable(domain.name(), 255) + ": " + who +
                   " is in no vfhook pool; leaving it to libvirt alone");
      continue;
    }
    planned.pool = pool;
    pool_name = pool->name;
    if (auto shared = pool_shares_pf_refusal(who, *pool, pools)) {
      plan.refusals.push_back(*shared);
      continue;
    }

    if (vf) {
      if (pool->mode != PoolMode::vf || !pools.lists(*pool, vf->pf)) {
        std::string unresolved = pools.unresolved_text(pool);
        plan.refusals.push_back({who, "this VF does not belong to pool '" + pool->name + "'" +
                                          (unresolved.empty() ? "" : " (" + unresolved + ")") +
                                          ". Pick a VF of one of the pool's PFs."});
        continue;
      }
      if (!pool->includes_vf_index(vf->index)) {
        // Only a pool with a vf_range can leave an index out.
        plan.refusals.push_back(
            {who, "VF index " + std::to_string(vf->index) + " is outside the VF range pool '" +
                      pool->name + "' may use (vf_range " + pool->vf_range_text() +
                      "). Give the port a VF inside the range (`vfctl port remove`, then "
                      "`vfctl port add` picks one), or widen vf_range in the vfhook config."});
        continue;
      }
    } else {
      if (pool->mode != PoolMode::pf) {
        plan.refusals.push_back({who, "this device is not an SR-IOV VF, and pool '" + pool->name +
                                          "' gives out VFs only. Point the port at a VF of the "
                                          "pool, or give whole devices from a pool with mode = "
                                          "\"pf\"."});
        continue;
      }
      if (!pools.lists(*pool, planned.device)) {
        std::string unresolved = pools.unresolved_text(pool);
        plan.refusals.push_back({who, "this device is not one pool '" + pool->name + "' lists" +
                                          (unresolved.empty() ? "" : " (" + unresolved + ")") +
                                          ". Pick a device of the pool."});
        continue;
      }
      if (port.kind != PortKind::hostdev) {
        plan.refusals.push_back({who,
                                 "a whole device can only be given as a <hostdev>, "
                                 "not as an <interface>. Write it as <hostdev mode='subsystem' "
                                 "type='pci'>, or give the <interface> a VF of a VF pool."});
        continue;
      }
      VF_ASSIGN(driver, with_context(topology.driver(planned.device), who));
      VF_ASSIGN(group, with_context(topology.iommu_group(planned.device), who));
      planned.driver = driver;
      planned.iommu_group = group;
      plan.ports.push_back(std::move(planned));
      continue;
    }
    std::optional<Vlan> vlan;
    size_t refusals_before = plan.refusals.size();
    check_port_policy(who, port, record, *pool, ctx.config, vlan, plan.refusals);
    check_failover(who, port);
    if (plan.refusals.size() != refusals_before) continue;

    if (port.kind == PortKind::hostdev) {
      if (record && record->mac) planned.at_prepare.mac = record->mac;
      planned.at_prepare.vlan = vlan.value_or(Vlan{});
    } else if (vlan && (port.kind == PortKind::interface_network || !port.vlan_tag ||
                        vlan->qos != 0 || vlan->protocol != VlanProtocol::dot1q)) {
      // libvirt sets one plain 802.1Q tag for a hostdev interface (and clears it without
      // <vlan>); QoS, 802.1ad and hostdev-network VLANs are vfhook's.
      planned.at_start.vlan = vlan;
    }
    planned.at_start.spoofchk = record && record->spoofchk ? *record->spoofchk : pool->spoofchk;
    planned.at_start.trust = record && record->trust ? *record->trust : pool->trust;
    planned.at_start.link_state =
        record && record->link_state ? *record->link_state : pool->link_state;
    if (record && record->rates) planned.at_start.rates = record->rates;
    plan.ports.push_back(std::move(planned));
  }
  return plan;
}

Result<std::vector<Refusal>> check_host_ready(const PortPlan& plan, EngineContext& ctx) {
  std::vector<Refusal> refusals;
  PciTopology topology(ctx.sysfs);
  std::map<std::string, bool> pf_up;
  bool vfio_checked = false;

  for (const PlannedPort& p : plan.ports) {
    std::string who = p.describe();
    const std::string pool_name = p.pool ? p.pool->name : std::string();
    RefusalPoolTag tag(refusals, pool_name);
    if (const VfFunction* vf = p.vf()) {
      auto cached = pf_up.find(vf->pf_name);
      if (cached == pf_up.end()) {
        VF_ASSIGN(pf, with_context(ctx.netlink.read_pf(vf->pf_name), who));
        cached = pf_up.emplace(vf->pf_name, pf.admin_up).first;
      }
      if (!cached->second)
        refusals.push_back(
            {who, "PF " + vf->pf_name +
                      " is down, and a guest's VF driver takes a random MAC until its PF is "
                      "up. Bring it up first: ip link set " +
                      vf->pf_name + " up"});
      if (p.host_netdev) {
        VF_ASSIGN(up, with_context(topology.netdev_admin_up(*p.host_netdev), who));
        if (up)
          refusals.push_back({who, "the host itself uses this VF (interface " + *p.host_netdev +
                                       " is up). Take it down or pick another VF."});
      }
    }
    if (!p.vf()) {
      VF_ASSIGN(netdev, with_context(topology.netdev(p.device), who));
      if (netdev) {
        VF_ASSIGN(up, with_context(topology.netdev_admin_up(*netdev), who));
        if (up)
          refusals.push_back({who, "the host itself uses this device (interface " + *netdev +
                                       " is up): given to a guest, the host loses it. Take it "
                                       "down first (ip link set " +
                                       *netdev + " down), or give the guest another device."});
      }
    }
    const std::optional<int> group =
        p.iommu_group >= 0 ? std::optional<int>(p.iommu_group) : std::nullopt;
    if (auto viable = check_iommu_group_viable(ctx.sysfs, p.device, group); !viable)
      refusals.push_back(
          {who, viable.error().message +
                    ". Bind those devices to vfio-pci (driverctl set-override ADDRESS vfio-pci) "
                    "or unbind them, or give the guest a VF in a group of its own; `vfctl "
                    "doctor` checks the groups of every pool's VFs."});
    if (!p.port.managed && !vfio_checked) {
      vfio_checked = true;
      if (auto loaded = check_vfio_pci_loaded(ctx.sysfs); !loaded)
        refusals.push_back({who, loaded.error().message});
    }
  }
  return refusals;
}

}  // namespace vfhook

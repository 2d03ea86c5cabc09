#include "engine/port_plan.h"

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

bool pool_lists(const Pool& pool, std::string_view name, const PciAddress& address) {
  std::string address_text = address.to_string();
  for (const auto& pf : pool.pfs)
    if ((!name.empty() && pf.ref == name) || pf.ref == address_text) return true;
  return false;
}

const Pool* pool_of_vf(const HostConfig& config, const VfInfo& vf) {
  for (const auto& pool : config.pools)
    if (pool.mode == PoolMode::vf && pool_lists(pool, vf.pf_name, vf.pf)) return &pool;
  return nullptr;
}

// A pool in "pf" mode that lists this device, by address or by its interface name.
const Pool* pool_of_whole_device(const HostConfig& config, PciTopology& topology,
                                 const PciAddress& device) {
  for (const auto& pool : config.pools) {
    if (pool.mode != PoolMode::pf) continue;
    for (const auto& pf : pool.pfs) {
      if (pf.ref == device.to_string()) return &pool;
      if (PciAddress::parse(pf.ref)) continue;
      if (auto info = topology.pf(pf.ref); info && info->address == device) return &pool;
    }
  }
  return nullptr;
}

std::string vlan_text(const Vlan& vlan) {
  std::string text = "VLAN " + std::to_string(vlan.id);
  if (vlan.protocol == VlanProtocol::dot1ad) text += " (802.1ad)";
  return text;
}

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

}  // namespace

std::string PlannedPort::describe() const {
  std::string text = port.describe();
  if (whole_device)
    text += " (" + device.to_string() + ")";
  else
    text += " (PF " + pf_name + " VF " + std::to_string(vf_index) + ", " + device.to_string() + ")";
  return text;
}

Result<PortPlan> plan_ports(const DomainXml& domain, EngineContext& ctx, Stage stage) {
  PortPlan plan;
  auto records = domain.port_records();
  if (!records) {
    plan.refusals.push_back(
        {"", "its vfhook port records are invalid: " + records.error().message});
    return plan;
  }
  PciTopology topology(ctx.sysfs);

  for (const VfPort& port : domain.vf_ports()) {
    const PortRecord* record = find_record(*records, port);
    std::string who = port.describe();

    if (!port.host) {
      // A hostdev-network interface before libvirt picked its VF (prepare): only the record
      // can be checked now; start sees the VF.
      if (!record) continue;
      const Pool* pool = ctx.config.find_pool(record->pool);
      if (!pool) {
        plan.refusals.push_back(
            {who, "its port record names pool '" + record->pool +
                      "', which this host does not define. Fix the record or add "
                      "the pool to the vfhook config."});
        continue;
      }
      std::optional<Vlan> vlan;
      check_port_policy(who, port, record, *pool, ctx.config, vlan, plan.refusals);
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
    if (vf) {
      planned.pf_name = vf->pf_name;
      planned.vf_index = vf->index;
      planned.iommu_group = vf->iommu_group;
      planned.driver = vf->driver;
      planned.host_netdev = vf->netdev;
      who = planned.describe();
      pool = record ? ctx.config.find_pool(record->pool) : pool_of_vf(ctx.config, *vf);
    } else {
      planned.whole_device = true;
      who = planned.describe();
      pool = record ? ctx.config.find_pool(record->pool)
                    : pool_of_whole_device(ctx.config, topology, planned.device);
    }

    if (record && !pool) {
      plan.refusals.push_back(
          {who, "its port record names pool '" + record->pool +
                    "', which this host does not define. Fix the record or add the "
                    "pool to the vfhook config."});
      continue;
    }
    if (!pool) {
      ctx.log.info("domain " + printable(domain.name(), 255) + ": " + who +
                   " is in no vfhook pool; leaving it to libvirt alone");
      continue;
    }
    planned.pool = pool;

    if (vf) {
      if (pool->mode != PoolMode::vf || !pool_lists(*pool, vf->pf_name, vf->pf)) {
        plan.refusals.push_back({who, "this VF does not belong to pool '" + pool->name +
                                          "'. Pick a VF of one of the pool's PFs."});
        continue;
      }
      if (!pool->includes_vf_index(vf->index)) {
        plan.refusals.push_back({who, "VF index " + std::to_string(vf->index) +
                                          " is outside the VF range pool '" + pool->name +
                                          "' may use."});
        continue;
      }
    } else {
      if (pool->mode != PoolMode::pf) {
        plan.refusals.push_back({who, "this device is not an SR-IOV VF, and pool '" + pool->name +
                                          "' gives out VFs only."});
        continue;
      }
      if (port.kind != PortKind::hostdev) {
        plan.refusals.push_back({who,
                                 "a whole device can only be given as a <hostdev>, "
                                 "not as an <interface>."});
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
    if (!p.whole_device) {
      auto cached = pf_up.find(p.pf_name);
      if (cached == pf_up.end()) {
        VF_ASSIGN(pf, with_context(ctx.netlink.read_pf(p.pf_name), who));
        cached = pf_up.emplace(p.pf_name, pf.admin_up).first;
      }
      if (!cached->second)
        refusals.push_back(
            {who, "PF " + p.pf_name +
                      " is down, and a guest's VF driver takes a random MAC until its PF is "
                      "up. Bring it up first: ip link set " +
                      p.pf_name + " up"});
      if (p.host_netdev) {
        VF_ASSIGN(up, with_context(topology.netdev_admin_up(*p.host_netdev), who));
        if (up)
          refusals.push_back({who, "the host itself uses this VF (interface " + *p.host_netdev +
                                       " is up). Take it down or pick another VF."});
      }
    }
    if (auto viable = check_iommu_group_viable(ctx.sysfs, p.device); !viable)
      refusals.push_back({who, viable.error().message});
    if (!p.port.managed && !vfio_checked) {
      vfio_checked = true;
      if (auto loaded = check_vfio_pci_loaded(ctx.sysfs); !loaded)
        refusals.push_back({who, loaded.error().message});
    }
  }
  return refusals;
}

}  // namespace vfhook

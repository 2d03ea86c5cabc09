// PortPlan: a domain's VF ports resolved against this host and checked against its policy,
// before anything on the host changes.
//
// plan_ports() reads (never writes) sysfs and the pools: for each VF port it finds the port
// record, the pool, the PCI function and its PF, and works out the settings vfhook applies at
// prepare (plain <hostdev> VFs: MAC and VLAN, which libvirt does not set there) and at start
// (what libvirt cannot: VLAN QoS and 802.1ad, spoofchk, trust, link state, rates). Every policy
// violation becomes a Refusal; the caller refuses the whole domain if there is any.
//
// At Stage::prepare a teamed VF port (virtio-net failover: <teaming type='transient'
// persistent='ua-X'>) is also checked against its partner: an <interface> with alias ua-X and
// <teaming type='persistent'/> (model virtio when it names one), the same MAC as the VF
// interface, and, when the VF interface has a guest PCI address, a bus of its own (no other
// device on it, and not the root bus), so that QEMU can unplug it at migration. The pool's
// `failover` switch plays no part here: it governs arrival by migration, not starting.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/context.h"
#include "engine/outcome.h"
#include "model/vf_settings.h"
#include "xml/domain_xml.h"

namespace vfhook {

enum class Stage { prepare, start, reconnect };

// What the host PCI function of a port is. A VF has a PF and an index, through which vfhook
// sets its MAC, VLAN and the rest; a whole device (a pool in "pf" mode) has no VF settings.
struct VfFunction {
  PciAddress pf;
  std::string pf_name;  // the PF's interface
  int index = 0;        // N of the PF's virtfnN
};
struct WholeDevice {};
using PortFunction = std::variant<VfFunction, WholeDevice>;

struct PlannedPort {
  VfPort port;
  std::optional<PortRecord> record;
  const Pool* pool = nullptr;
  PciAddress device;  // the host PCI function given to the guest
  PortFunction function = WholeDevice{};
  int iommu_group = -1;
  std::optional<std::string> driver;       // the device's driver now
  std::optional<std::string> host_netdev;  // the VF's own netdev, when a host driver holds it
  VfSettings at_prepare;
  VfSettings at_start;

  // The VF, or nullptr for a whole device.
  [[nodiscard]] const VfFunction* vf() const { return std::get_if<VfFunction>(&function); }
  // "interface 52:54:00:aa:00:01 (PF enp1s0 VF 3, 0000:01:10.6)": how messages name it.
  [[nodiscard]] std::string describe() const;
};

// The pools' PF references (interface names or PCI addresses) resolved against sysfs, once
// per plan: every comparison of a PF with a pool is between canonical PCI addresses. A
// reference that does not resolve (a typo, a PF that is gone) never turns policy off: it is
// named in every refusal it could affect.
struct PoolPfs {
  struct Unresolved {
    const Pool* pool = nullptr;
    std::string ref;
  };
  std::map<PciAddress, std::vector<const Pool*>> pools_by_pf;  // every pool listing the PF
  std::vector<Unresolved> unresolved;

  // The pool of `mode` that lists this PF (the first, if the config lists it twice).
  [[nodiscard]] const Pool* pool_of(const PciAddress& pf, PoolMode mode) const;
  [[nodiscard]] bool lists(const Pool& pool, const PciAddress& pf) const;
  [[nodiscard]] std::vector<PciAddress> pfs_of(const Pool& pool) const;
  // "pool 'a' lists PF 'enp1s0x', which is no PCI device on this host", one per
  // unresolved ref (of `pool` only, when given); "" when all resolve.
  [[nodiscard]] std::string unresolved_text(const Pool* pool = nullptr) const;
};

PoolPfs resolve_pool_pfs(const HostConfig& config, Sysfs& sysfs);

struct PortPlan {
  std::vector<PlannedPort> ports;  // the ports vfhook manages, resolved
  std::vector<Refusal> refusals;   // policy violations
  PoolPfs pools;                   // the pools' PFs, as this plan resolved them
  // Pools of the hostdev-network ports whose VF libvirt has not chosen yet (prepare).
  std::vector<const Pool*> libvirt_chooses_from;
};

// The rules of `pool` that hold whichever VF backs the port: its VLAN (the pool's ranges, flat
// pools, the host bridges' VLANs; the record and the <vlan> tag must agree), trust, spoofchk
// and a unicast MAC. Appends one refusal per violation, naming the port `who`. plan_ports()
// applies them to every VF port; the migrate hook applies them before it picks a VF.
void check_port_against_pool(const std::string& who, const VfPort& port, const PortRecord* record,
                             const Pool& pool, const HostConfig& config,
                             std::vector<Refusal>& refusals);

// Fails only when the host cannot be read (sysfs error); policy violations are refusals.
Result<PortPlan> plan_ports(const DomainXml& domain, EngineContext& ctx, Stage stage);

// The host-side preconditions of prepare, as refusals: PF up, IOMMU group viable, vfio-pci
// loaded for managed='no' ports, no VF in use by the host itself.
Result<std::vector<Refusal>> check_host_ready(const PortPlan& plan, EngineContext& ctx);

}  // namespace vfhook

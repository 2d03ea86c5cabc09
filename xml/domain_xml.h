// DomainXml: a libvirt domain definition read from untrusted input, the VF ports found in it,
// and the edits vfhook makes (host source addresses, port records).
//
// Parsing refuses any DOCTYPE (so no entity expansion, no external entities), input over
// kMaxDomainXmlBytes, and anything but a <domain> root. libxml2 runs with
// XML_PARSE_NONET|XML_PARSE_NOERROR|XML_PARSE_NOWARNING and never XML_PARSE_NOENT/HUGE.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/mac_address.h"
#include "util/pci_address.h"
#include "util/result.h"
#include "xml/port_record.h"

namespace vfhook {

inline constexpr size_t kMaxDomainXmlBytes = 4 * 1024 * 1024;

enum class PortKind {
  interface_hostdev,  // <interface type='hostdev'>: libvirt sets MAC and one VLAN tag
  interface_network,  // <interface type='network'> on a hostdev network: libvirt picks the VF
  hostdev,            // <hostdev mode='subsystem' type='pci'>: a VF or a whole PF; no MAC/VLAN
};
std::string_view to_string(PortKind kind);

struct VfPort {
  PortKind kind = PortKind::interface_hostdev;
  size_t ordinal = 0;                   // position among the domain's VF ports (document order)
  bool managed = false;                 // managed='yes': libvirt binds/unbinds vfio-pci itself
  std::optional<PciAddress> host;       // host source; absent for an unresolved network port
  std::optional<MacAddress> mac;        // interfaces: <mac address>
  std::optional<uint16_t> vlan_tag;     // interfaces: libvirt's single <vlan><tag id>
  std::optional<std::string> network;   // interface_network: <source network>
  std::string alias;                    // <alias name>, "" when absent
  std::optional<PciAddress> guest_address;  // <address type='pci'> the guest sees

  // "interface 52:54:00:aa:00:01" / "hostdev 0000:01:10.2": how messages name the port.
  [[nodiscard]] std::string describe() const;
};

class DomainXml {
 public:
  static Result<DomainXml> parse(std::string_view text);

  DomainXml(DomainXml&&) noexcept;
  DomainXml& operator=(DomainXml&&) noexcept;
  ~DomainXml();

  [[nodiscard]] const std::string& name() const;
  [[nodiscard]] const std::string& uuid() const;  // "" when absent

  // Every VF port, in document order. Unrelated devices (bridges, disks) are not listed.
  [[nodiscard]] const std::vector<VfPort>& vf_ports() const;

  // NUMA nodes the guest's memory is bound to (<numatune><memory nodeset>), empty if unbound.
  [[nodiscard]] std::vector<int> memory_numa_nodes() const;

  // vfhook's port records from <metadata>, validated; empty when there are none.
  [[nodiscard]] Result<std::vector<PortRecord>> port_records() const;
  // Replaces vfhook's metadata element with these records (creating <metadata> if needed).
  Status set_port_records(const std::vector<PortRecord>& records);

  // Points the port with this ordinal at a different host PCI function.
  Status set_host_source(size_t ordinal, const PciAddress& host);

  [[nodiscard]] std::string serialize() const;

 private:
  struct Impl;
  explicit DomainXml(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Finds the record that describes a port: by alias, by MAC (interfaces), or by host address
// (hostdev). Returns nullptr when none does.
const PortRecord* find_record(const std::vector<PortRecord>& records, const VfPort& port);

// What a new <interface type='hostdev'> for a port holds.
struct HostdevInterfaceSpec {
  PciAddress host;
  MacAddress mac;
  std::optional<uint16_t> vlan_tag;  // one 802.1Q tag; QoS/802.1ad live in the port record
  bool managed = false;
  std::string alias;                        // must start with "ua-" (libvirt's user alias rule)
  std::optional<PciAddress> guest_address;  // keeps the guest's NIC name across VFs
};
Result<std::string> render_hostdev_interface(const HostdevInterfaceSpec& spec);

}  // namespace vfhook

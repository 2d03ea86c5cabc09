// PortRecord: vfhook's own description of a guest NIC backed by a VF, kept in the domain
// XML's <metadata> under kPortNamespace so it travels with the domain:
//
//   <metadata>
//     <vfhook:ports xmlns:vfhook="urn:vfhook:ports:1">
//       <vfhook:port mac="52:54:00:aa:00:01" pool="provider" vlan="120" qos="3"
//                    protocol="802.1Q" spoofchk="off" trust="off" link="auto"
//                    min-tx-rate="0" max-tx-rate="100" ip="192.0.2.10"/>
//     </vfhook:ports>
//   </metadata>
//
// Which device a record describes: `alias` (any port), else `mac` equal to an interface's
// <mac address>, else `host` equal to a <hostdev>'s source address. For a <hostdev> port,
// `mac` is the admin MAC vfhook sets (libvirt sets none there).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/mac_address.h"
#include "model/pci_address.h"
#include "model/vf_settings.h"

namespace vfhook {

inline constexpr const char* kPortNamespace = "urn:vfhook:ports:1";
inline constexpr const char* kPortNamespacePrefix = "vfhook";

struct PortRecord {
  std::optional<std::string> alias;
  std::optional<MacAddress> mac;
  std::optional<PciAddress> host;

  std::string pool;              // required; a pool of the host config
  std::optional<Vlan> vlan;      // absent: untagged
  std::optional<bool> spoofchk;  // absent: the pool's default
  std::optional<bool> trust;     // absent: the pool's default
  std::optional<LinkState> link_state;
  std::optional<VfSettings::Rates> rates;
  std::optional<std::string> ip;  // an IPv4 or IPv6 address, validated

  bool operator==(const PortRecord&) const = default;
};

}  // namespace vfhook

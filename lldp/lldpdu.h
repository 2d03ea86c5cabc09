// LLDPDU: what a neighbour (a switch, or lldpd on another host) says about itself in one LLDP
// frame (IEEE 802.1AB): its chassis ID, the ID of its port we are cabled to, how long to keep
// that, and the optional TLVs an operator looks for (port description, system name and
// description, management addresses, the port's VLAN ID). Pure functions over bytes.
//
// The bytes come off the wire from anyone on the link: every length is checked against what
// is left, nothing is read past the end, and every string in an LldpNeighbor is printable
// ASCII (util/printable.h), bounded, safe to print on a terminal or put in JSON.
//
// Refused (invalid_input): a frame that is not LLDP, an LLDPDU whose first three TLVs are not
// chassis ID, port ID and TTL with their sizes, a TLV that runs past the end, a second
// chassis ID, port ID or TTL, an End TLV with a length. A malformed optional TLV (a
// management address whose inner lengths do not add up, a port VLAN ID of the wrong size) is
// skipped and counted in `skipped_tlvs`: one switch's odd TLV does not hide its name and port.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace vfhook {

inline constexpr uint16_t kLldpEthertype = 0x88cc;

// TLV types of 802.1AB-2016 table 8-1 that vfhook reads.
enum class LldpTlvType : uint8_t {
  end = 0,
  chassis_id = 1,
  port_id = 2,
  ttl = 3,
  port_description = 4,
  system_name = 5,
  system_description = 6,
  system_capabilities = 7,
  management_address = 8,
  organizationally_specific = 127,
};

// Chassis ID subtypes (802.1AB-2016 table 8-2).
enum class ChassisIdSubtype : uint8_t {
  chassis_component = 1,
  interface_alias = 2,
  port_component = 3,
  mac_address = 4,
  network_address = 5,
  interface_name = 6,
  locally_assigned = 7,
};
// Port ID subtypes (802.1AB-2016 table 8-3).
enum class PortIdSubtype : uint8_t {
  interface_alias = 1,
  port_component = 2,
  mac_address = 3,
  network_address = 4,
  interface_name = 5,
  agent_circuit_id = 6,
  locally_assigned = 7,
};

// "mac", "ifname", "local", ... as lldpcli names them; "subtype N" for a reserved value.
std::string chassis_id_subtype_name(uint8_t subtype);
std::string port_id_subtype_name(uint8_t subtype);

// A chassis or port ID: its subtype as sent (a reserved one too) and its value for display: a
// MAC as aa:bb:cc:dd:ee:ff, a network address as an IPv4 or IPv6 address, anything else (a
// name, or bytes that do not fit their subtype) through printable().
struct LldpId {
  uint8_t subtype = 0;
  std::string value;
  bool operator==(const LldpId&) const = default;
};

struct LldpNeighbor {
  LldpId chassis;
  LldpId port;
  uint16_t ttl_seconds = 0;  // 0: the neighbour is leaving (a shutdown LLDPDU)
  std::string port_description;
  std::string system_name;
  std::string system_description;
  std::vector<std::string> management_addresses;  // at most kMaxManagementAddresses
  std::optional<uint16_t> port_vlan_id;           // 802.1 Port VLAN ID; nullopt when 0 or absent
  int skipped_tlvs = 0;                           // malformed optional TLVs that were skipped

  static constexpr size_t kMaxManagementAddresses = 8;
  bool operator==(const LldpNeighbor&) const = default;
};

// How the operator names the neighbour's side of the cable, "<switch>/<port>": the switch is
// the system name (else the chassis ID); the port is the port ID when it is a name (interface
// name or alias, port component, circuit ID), else the port description when there is one: a
// MAC (what lldpd sends by default, with the interface name as description), an address or a
// locally assigned ID (often an SNMP index such as "515") says less than "ge-0/0/12".
std::string neighbor_switch_text(const LldpNeighbor& neighbor);
std::string neighbor_port_text(const LldpNeighbor& neighbor);

// One TLV as it is on the wire: its type and its value bytes (a view into the LLDPDU).
struct LldpTlv {
  uint8_t type = 0;
  std::span<const uint8_t> value;
};

// The TLVs of an LLDPDU up to the End TLV (not included) or the end of the bytes; bytes after
// the End TLV (Ethernet padding) are ignored. Refuses a TLV that runs past the end or an End
// TLV with a length. Checks nothing else.
Result<std::vector<LldpTlv>> split_lldp_tlvs(std::span<const uint8_t> lldpdu);

// The bytes of an LLDPDU made of `tlvs`, then an End TLV: the inverse of split_lldp_tlvs for
// values of at most 511 bytes (longer ones are cut to 511). For tests and the fuzz target.
std::vector<uint8_t> encode_lldp_tlvs(const std::vector<LldpTlv>& tlvs);

// The neighbour an LLDPDU (the frame's payload after the ethertype) describes.
Result<LldpNeighbor> parse_lldpdu(std::span<const uint8_t> lldpdu);

// The same from a whole Ethernet frame as an AF_PACKET SOCK_RAW socket returns it:
// destination, source, ethertype 0x88cc, LLDPDU. Anything else is refused.
Result<LldpNeighbor> parse_lldp_frame(std::span<const uint8_t> frame);

}  // namespace vfhook

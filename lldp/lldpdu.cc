#include "lldp/lldpdu.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

#include "util/printable.h"

namespace vfhook {
namespace {

// A TLV's value is at most 511 bytes (9-bit length): printable() of it is bounded too.
constexpr size_t kMaxTlvValue = 511;
constexpr size_t kEthernetHeader = 14;
// IANA address family numbers, as 802.1AB uses them for network-address IDs and management
// addresses.
constexpr uint8_t kIanaIpv4 = 1;
constexpr uint8_t kIanaIpv6 = 2;
// 802.1 organizationally specific TLVs: OUI 00-80-C2, subtype 1 is the Port VLAN ID.
constexpr uint8_t kIeee8021Oui[3] = {0x00, 0x80, 0xc2};
constexpr uint8_t kPortVlanIdSubtype = 1;

std::string_view as_text(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string mac_text(std::span<const uint8_t> mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return text;
}

// An IANA family byte then the address; nullopt when it is neither a whole IPv4 nor IPv6 one.
std::optional<std::string> address_text(std::span<const uint8_t> family_and_address) {
  if (family_and_address.empty()) return std::nullopt;
  const uint8_t family = family_and_address[0];
  const auto address = family_and_address.subspan(1);
  char text[INET6_ADDRSTRLEN] = {};
  if (family == kIanaIpv4 && address.size() == 4) {
    if (inet_ntop(AF_INET, address.data(), text, sizeof text)) return std::string(text);
  } else if (family == kIanaIpv6 && address.size() == 16) {
    if (inet_ntop(AF_INET6, address.data(), text, sizeof text)) return std::string(text);
  }
  return std::nullopt;
}

// The display value of an ID whose subtype says MAC or network address; any other bytes (a
// name, or a MAC of the wrong size) through printable().
std::string id_text(std::span<const uint8_t> value, bool is_mac, bool is_address) {
  if (is_mac && value.size() == 6) return mac_text(value);
  if (is_address)
    if (auto text = address_text(value)) return *text;
  return printable(as_text(value), kMaxTlvValue);
}

Result<LldpId> parse_id(const LldpTlv& tlv, const char* what, uint8_t mac_subtype,
                        uint8_t address_subtype) {
  // A subtype byte and 1..255 bytes of ID (802.1AB-2016 8.5.2, 8.5.3).
  if (tlv.value.size() < 2 || tlv.value.size() > 256)
    return fail(ErrorKind::invalid_input, std::string(what) + " TLV of " +
                                              std::to_string(tlv.value.size()) +
                                              " bytes (a subtype and 1 to 255 bytes of ID)");
  LldpId id;
  id.subtype = tlv.value[0];
  id.value =
      id_text(tlv.value.subspan(1), id.subtype == mac_subtype, id.subtype == address_subtype);
  return id;
}

uint16_t be16(std::span<const uint8_t> bytes) {
  return static_cast<uint16_t>(bytes[0] << 8 | bytes[1]);
}

// A management address TLV (8.5.9): address string length (1 + address, 2..32), family,
// address, interface numbering subtype, interface number (4), OID length, OID (0..128).
// nullopt when its lengths do not add up.
std::optional<std::string> parse_management_address(std::span<const uint8_t> value) {
  if (value.size() < 9) return std::nullopt;
  const size_t address_length = value[0];
  if (address_length < 2 || address_length > 32) return std::nullopt;
  if (value.size() < 1 + address_length + 5 + 1) return std::nullopt;
  const size_t oid_length = value[1 + address_length + 5];
  if (oid_length > 128 || value.size() != 1 + address_length + 5 + 1 + oid_length)
    return std::nullopt;
  const auto family_and_address = value.subspan(1, address_length);
  if (auto text = address_text(family_and_address)) return text;
  // Another family (a MAC address, family 6, for one): its bytes in hex after the family.
  std::string text = "family " + std::to_string(family_and_address[0]) + " ";
  for (size_t i = 1; i < family_and_address.size(); ++i) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", family_and_address[i]);
    text += hex;
  }
  return text;
}

}  // namespace

std::string chassis_id_subtype_name(uint8_t subtype) {
  switch (subtype) {
    case 1:
      return "chassis";
    case 2:
      return "ifalias";
    case 3:
      return "port";
    case 4:
      return "mac";
    case 5:
      return "ip";
    case 6:
      return "ifname";
    case 7:
      return "local";
  }
  return "subtype " + std::to_string(subtype);
}

std::string port_id_subtype_name(uint8_t subtype) {
  switch (subtype) {
    case 1:
      return "ifalias";
    case 2:
      return "port";
    case 3:
      return "mac";
    case 4:
      return "ip";
    case 5:
      return "ifname";
    case 6:
      return "circuit";
    case 7:
      return "local";
  }
  return "subtype " + std::to_string(subtype);
}

std::string neighbor_switch_text(const LldpNeighbor& neighbor) {
  return neighbor.system_name.empty() ? neighbor.chassis.value : neighbor.system_name;
}

std::string neighbor_port_text(const LldpNeighbor& neighbor) {
  const auto subtype = static_cast<PortIdSubtype>(neighbor.port.subtype);
  const bool id_is_a_name =
      subtype == PortIdSubtype::interface_name || subtype == PortIdSubtype::interface_alias ||
      subtype == PortIdSubtype::port_component || subtype == PortIdSubtype::agent_circuit_id;
  if (!id_is_a_name && !neighbor.port_description.empty()) return neighbor.port_description;
  return neighbor.port.value;
}

Result<std::vector<LldpTlv>> split_lldp_tlvs(std::span<const uint8_t> lldpdu) {
  std::vector<LldpTlv> tlvs;
  size_t offset = 0;
  while (offset < lldpdu.size()) {
    if (lldpdu.size() - offset < 2)
      return fail(ErrorKind::invalid_input,
                  "LLDPDU: a TLV header cut short at byte " + std::to_string(offset));
    const uint16_t header = be16(lldpdu.subspan(offset, 2));
    const auto type = static_cast<uint8_t>(header >> 9);
    const size_t length = header & 0x1ff;
    if (lldpdu.size() - offset - 2 < length)
      return fail(ErrorKind::invalid_input,
                  "LLDPDU: TLV type " + std::to_string(type) + " at byte " +
                      std::to_string(offset) + " says " + std::to_string(length) + " bytes, " +
                      std::to_string(lldpdu.size() - offset - 2) + " are left");
    if (type == static_cast<uint8_t>(LldpTlvType::end)) {
      if (length != 0)
        return fail(ErrorKind::invalid_input,
                    "LLDPDU: an End TLV of length " + std::to_string(length) + " (must be 0)");
      break;
    }
    tlvs.push_back(LldpTlv{type, lldpdu.subspan(offset + 2, length)});
    offset += 2 + length;
  }
  return tlvs;
}

std::vector<uint8_t> encode_lldp_tlvs(const std::vector<LldpTlv>& tlvs) {
  std::vector<uint8_t> out;
  for (const LldpTlv& tlv : tlvs) {
    const size_t length = std::min(tlv.value.size(), kMaxTlvValue);
    const auto header = static_cast<uint16_t>((tlv.type & 0x7f) << 9 | length);
    out.push_back(static_cast<uint8_t>(header >> 8));
    out.push_back(static_cast<uint8_t>(header & 0xff));
    out.insert(out.end(), tlv.value.begin(), tlv.value.begin() + static_cast<ptrdiff_t>(length));
  }
  out.push_back(0);
  out.push_back(0);
  return out;
}

Result<LldpNeighbor> parse_lldpdu(std::span<const uint8_t> lldpdu) {
  VF_ASSIGN(tlvs, split_lldp_tlvs(lldpdu));
  // 802.1AB-2016 9.2.7.7.1: chassis ID, port ID and TTL come first, in this order.
  static constexpr struct {
    LldpTlvType type;
    const char* name;
  } kMandatory[] = {{LldpTlvType::chassis_id, "chassis ID"},
                    {LldpTlvType::port_id, "port ID"},
                    {LldpTlvType::ttl, "TTL"}};
  for (size_t i = 0; i < 3; ++i) {
    if (tlvs.size() <= i || tlvs[i].type != static_cast<uint8_t>(kMandatory[i].type))
      return fail(
          ErrorKind::invalid_input,
          std::string("LLDPDU: TLV ") + std::to_string(i + 1) + " is not the " +
              kMandatory[i].name + " (" +
              (tlvs.size() <= i ? std::string("missing") : "type " + std::to_string(tlvs[i].type)) +
              ")");
  }
  LldpNeighbor neighbor;
  VF_ASSIGN(chassis,
            parse_id(tlvs[0], "chassis ID", static_cast<uint8_t>(ChassisIdSubtype::mac_address),
                     static_cast<uint8_t>(ChassisIdSubtype::network_address)));
  VF_ASSIGN(port, parse_id(tlvs[1], "port ID", static_cast<uint8_t>(PortIdSubtype::mac_address),
                           static_cast<uint8_t>(PortIdSubtype::network_address)));
  neighbor.chassis = std::move(chassis);
  neighbor.port = std::move(port);
  if (tlvs[2].value.size() != 2)
    return fail(
        ErrorKind::invalid_input,
        "LLDPDU: a TTL TLV of " + std::to_string(tlvs[2].value.size()) + " bytes (must be 2)");
  neighbor.ttl_seconds = be16(tlvs[2].value);

  bool seen_description = false, seen_name = false, seen_system_description = false;
  // The first of each optional string TLV counts; a repeated one is skipped.
  auto take_text = [&](bool& seen, std::string& field, std::span<const uint8_t> value) {
    if (seen) {
      ++neighbor.skipped_tlvs;
      return;
    }
    seen = true;
    field = printable(as_text(value), kMaxTlvValue);
  };
  for (size_t i = 3; i < tlvs.size(); ++i) {
    const LldpTlv& tlv = tlvs[i];
    switch (static_cast<LldpTlvType>(tlv.type)) {
      case LldpTlvType::chassis_id:
      case LldpTlvType::port_id:
      case LldpTlvType::ttl:
        return fail(ErrorKind::invalid_input, "LLDPDU: a second TLV of type " +
                                                  std::to_string(tlv.type) + " (TLV " +
                                                  std::to_string(i + 1) + ")");
      case LldpTlvType::port_description:
        take_text(seen_description, neighbor.port_description, tlv.value);
        break;
      case LldpTlvType::system_name:
        take_text(seen_name, neighbor.system_name, tlv.value);
        break;
      case LldpTlvType::system_description:
        take_text(seen_system_description, neighbor.system_description, tlv.value);
        break;
      case LldpTlvType::management_address: {
        auto address = parse_management_address(tlv.value);
        if (!address ||
            neighbor.management_addresses.size() >= LldpNeighbor::kMaxManagementAddresses) {
          ++neighbor.skipped_tlvs;
        } else {
          neighbor.management_addresses.push_back(std::move(*address));
        }
        break;
      }
      case LldpTlvType::organizationally_specific: {
        if (tlv.value.size() < 4) {
          ++neighbor.skipped_tlvs;
          break;
        }
        if (!std::equal(std::begin(kIeee8021Oui), std::end(kIeee8021Oui), tlv.value.begin()) ||
            tlv.value[3] != kPortVlanIdSubtype)
          break;  // another organization's TLV, or another 802.1 one: not ours to read
        if (tlv.value.size() != 6) {
          ++neighbor.skipped_tlvs;
          break;
        }
        const uint16_t pvid = be16(tlv.value.subspan(4, 2));
        if (pvid != 0) neighbor.port_vlan_id = pvid;
        break;
      }
      default:
        break;  // system capabilities, reserved types: not shown
    }
  }
  return neighbor;
}

Result<LldpNeighbor> parse_lldp_frame(std::span<const uint8_t> frame) {
  if (frame.size() < kEthernetHeader)
    return fail(ErrorKind::invalid_input,
                "a frame of " + std::to_string(frame.size()) + " bytes has no Ethernet header");
  const uint16_t ethertype = be16(frame.subspan(12, 2));
  if (ethertype != kLldpEthertype) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%04x", ethertype);
    return fail(ErrorKind::invalid_input,
                std::string("a frame of ethertype ") + hex + " is not LLDP (0x88cc)");
  }
  return parse_lldpdu(frame.subspan(kEthernetHeader));
}

}  // namespace vfhook

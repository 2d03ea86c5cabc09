#include "xml/vf_port_scan.h"

#include <algorithm>
#include <string>

#include "model/names.h"
#include "xml/xml_node.h"

namespace vfhook {
namespace {

using xmlnode::attribute;
using xmlnode::first_child;
using xmlnode::printable;

Result<bool> read_managed(const xmlNode* node) {
  auto managed = attribute(node, "managed");
  if (!managed || *managed == "no") return false;
  if (*managed == "yes") return true;
  return fail(ErrorKind::invalid_input,
              "managed='" + printable(*managed) + "' refused: expected yes or no");
}

// <source><address .../></source> of a hostdev or of an interface (or its <actual>).
Result<xmlNode*> source_address(const xmlNode* device) {
  xmlNode* address = first_child(first_child(device, "source"), "address");
  if (address == nullptr)
    return fail(ErrorKind::invalid_input, "no <source><address> naming the host PCI device");
  return address;
}

// libvirt sets exactly one 802.1Q tag on a VF; a trunk is refused there, and here too, so a
// policy never silently loses tags.
Result<std::optional<uint16_t>> read_vlan(const xmlNode* vlan) {
  if (vlan == nullptr) return std::optional<uint16_t>();
  std::vector<xmlNode*> tags = xmlnode::children(vlan, "tag");
  auto trunk = attribute(vlan, "trunk");
  if ((trunk && *trunk == "yes") || tags.size() > 1)
    return fail(ErrorKind::invalid_input,
                "VLAN trunk refused: a VF carries one 802.1Q tag (libvirt refuses trunks on "
                "hostdev interfaces too)");
  if (tags.empty()) return fail(ErrorKind::invalid_input, "<vlan> without a <tag>");
  if (attribute(tags[0], "nativeMode"))
    return fail(ErrorKind::invalid_input,
                "VLAN tag with nativeMode refused: that is a trunk setting, a VF has one tag");
  auto id = attribute(tags[0], "id").value_or("");
  unsigned value = 0;
  bool good = !id.empty() && id.size() <= 4;
  for (char ch : id) {
    good = good && ch >= '0' && ch <= '9';
    if (good) value = value * 10 + static_cast<unsigned>(ch - '0');
  }
  if (!good || value > 4094)
    return fail(ErrorKind::invalid_input,
                "VLAN tag id='" + printable(id) + "' refused: expected 0..4094");
  return std::optional<uint16_t>(static_cast<uint16_t>(value));
}

// The direct child <address type='pci'>: where the guest sees the device. Other address
// types (ccw, ...) are not PCI and leave guest_address empty.
Result<std::optional<PciAddress>> read_guest_address(const xmlNode* device) {
  const xmlNode* address = first_child(device, "address");
  if (address == nullptr || attribute(address, "type").value_or("") != "pci")
    return std::optional<PciAddress>();
  VF_ASSIGN(pci, xmlnode::read_pci_address(address));
  return std::optional<PciAddress>(pci);
}

Result<std::string> read_alias(const xmlNode* device) {
  auto alias = attribute(first_child(device, "alias"), "name");
  if (!alias) return std::string();
  if (!is_valid_alias(*alias))
    return fail(ErrorKind::invalid_input,
                "alias '" + printable(*alias) + "' refused: expected 1..64 of [A-Za-z0-9_-]");
  return *alias;
}

// virtio-net failover: a VF interface is the transient side of a pair and names the virtio
// interface it stands in for by that interface's user alias.
Result<std::optional<std::string>> read_teaming(const xmlNode* iface) {
  std::vector<xmlNode*> teamings = xmlnode::children(iface, "teaming");
  if (teamings.empty()) return std::optional<std::string>();
  if (teamings.size() > 1)
    return fail(ErrorKind::invalid_input, "two <teaming> elements refused: an interface has one");
  const std::string type = attribute(teamings[0], "type").value_or("");
  if (type == "persistent")
    return fail(ErrorKind::invalid_input,
                "<teaming type='persistent'> on a VF port refused: in virtio-net failover the VF "
                "is the transient side. Put <teaming type='transient' persistent='ua-...'/> "
                "here and type='persistent' on the virtio interface");
  if (type != "transient")
    return fail(ErrorKind::invalid_input, "<teaming type='" + printable(type) +
                                              "'> refused: a VF port's teaming is 'transient'");
  auto persistent = attribute(teamings[0], "persistent");
  if (!persistent)
    return fail(ErrorKind::invalid_input,
                "<teaming type='transient'> without persistent= refused: it must name the "
                "alias of the virtio interface the VF is teamed with");
  if (!is_valid_user_alias(*persistent))
    return fail(ErrorKind::invalid_input,
                "<teaming persistent='" + printable(*persistent) +
                    "'> refused: expected a user alias ('ua-' followed by [A-Za-z0-9_-], 64 at "
                    "most), the <alias name> of the virtio interface");
  return std::optional<std::string>(*persistent);
}

// Fills what every interface port has: MAC, alias, guest address, failover teaming.
Status read_interface_common(const xmlNode* iface, VfPort& port) {
  if (auto mac = attribute(first_child(iface, "mac"), "address")) {
    VF_ASSIGN(parsed, MacAddress::parse_unicast(*mac));
    port.mac = parsed;
  }
  VF_ASSIGN(alias, read_alias(iface));
  port.alias = alias;
  VF_ASSIGN(guest, read_guest_address(iface));
  port.guest_address = guest;
  VF_ASSIGN(teaming, read_teaming(iface));
  port.teaming_persistent = teaming;
  return ok();
}

// How errors name a device before its VfPort is complete: its position among the elements
// of its kind, and its MAC when it has one.
std::string device_label(const char* element, size_t position, const xmlNode* node) {
  std::string label = std::string("<devices> ") + element + " #" + std::to_string(position);
  if (auto mac = attribute(first_child(node, "mac"), "address"))
    label += " (mac " + printable(*mac, 17) + ")";
  return label;
}

bool named_by_record(const VfPort& port, const RecordKeys& keys) {
  if (!port.alias.empty() &&
      std::find(keys.aliases.begin(), keys.aliases.end(), port.alias) != keys.aliases.end())
    return true;
  return port.mac && std::find(keys.macs.begin(), keys.macs.end(), *port.mac) != keys.macs.end();
}

// Returns nullopt for an interface that is not a VF port.
Result<std::optional<ScannedPort>> scan_interface(const xmlNode* iface, const RecordKeys& keys) {
  const std::string type = attribute(iface, "type").value_or("");
  ScannedPort scanned;
  VfPort& port = scanned.port;
  if (type == "hostdev") {
    port.kind = PortKind::interface_hostdev;
    VF_TRY(read_interface_common(iface, port));
    VF_ASSIGN(managed, read_managed(iface));
    port.managed = managed;
    VF_ASSIGN(address, source_address(iface));
    VF_ASSIGN(host, xmlnode::read_pci_address(address));
    port.host = host;
    scanned.source_address = address;
    VF_ASSIGN(vlan, read_vlan(first_child(iface, "vlan")));
    port.vlan_tag = vlan;
    return std::optional<ScannedPort>(std::move(scanned));
  }
  if (type != "network") return std::optional<ScannedPort>();

  port.kind = PortKind::interface_network;
  VF_TRY(read_interface_common(iface, port));
  if (auto network = attribute(first_child(iface, "source"), "network")) {
    if (!is_valid_network_name(*network))
      return fail(ErrorKind::invalid_input, "network name '" + printable(*network) +
                                                "' refused: 1..255 bytes, no '/' or controls");
    port.network = *network;
  }
  const xmlNode* actual = first_child(iface, "actual");
  const std::string actual_type = attribute(actual, "type").value_or("");
  const bool recorded = named_by_record(port, keys);
  if (actual != nullptr && actual_type != "hostdev") {
    if (!recorded) return std::optional<ScannedPort>();  // a bridge/direct network: not ours
    return fail(ErrorKind::invalid_input,
                "a vfhook port record names this interface, but its network gave it a '" +
                    printable(actual_type) + "' device, not a VF");
  }
  if (actual != nullptr) {  // resolved: libvirt chose a VF from a hostdev network
    VF_ASSIGN(managed, read_managed(actual));
    port.managed = managed;
    VF_ASSIGN(address, source_address(actual));
    VF_ASSIGN(host, xmlnode::read_pci_address(address));
    port.host = host;
    scanned.source_address = address;
    const xmlNode* vlan = first_child(actual, "vlan");
    VF_ASSIGN(tag, read_vlan(vlan != nullptr ? vlan : first_child(iface, "vlan")));
    port.vlan_tag = tag;
    return std::optional<ScannedPort>(std::move(scanned));
  }
  if (!recorded) return std::optional<ScannedPort>();  // may be a plain bridge network
  VF_ASSIGN(tag, read_vlan(first_child(iface, "vlan")));
  port.vlan_tag = tag;
  return std::optional<ScannedPort>(std::move(scanned));
}

Result<std::optional<ScannedPort>> scan_hostdev(const xmlNode* hostdev) {
  if (attribute(hostdev, "mode").value_or("") != "subsystem" ||
      attribute(hostdev, "type").value_or("") != "pci")
    return std::optional<ScannedPort>();  // usb, scsi, mdev, capabilities: not a VF
  ScannedPort scanned;
  VfPort& port = scanned.port;
  port.kind = PortKind::hostdev;
  VF_ASSIGN(managed, read_managed(hostdev));
  port.managed = managed;
  VF_ASSIGN(address, source_address(hostdev));
  VF_ASSIGN(host, xmlnode::read_pci_address(address));
  port.host = host;
  scanned.source_address = address;
  VF_ASSIGN(alias, read_alias(hostdev));
  port.alias = alias;
  VF_ASSIGN(guest, read_guest_address(hostdev));
  port.guest_address = guest;
  return std::optional<ScannedPort>(std::move(scanned));
}

}  // namespace

Result<std::vector<ScannedPort>> scan_vf_ports(const xmlNode* root, const RecordKeys& keys) {
  std::vector<ScannedPort> ports;
  size_t interfaces = 0, hostdevs = 0;
  for (const xmlNode* devices : xmlnode::children(root, "devices")) {
    for (const xmlNode* node = devices->children; node != nullptr; node = node->next) {
      Result<std::optional<ScannedPort>> found = std::optional<ScannedPort>();
      if (xmlnode::is_element(node, "interface")) {
        found =
            with_context(scan_interface(node, keys), device_label("interface", ++interfaces, node));
      } else if (xmlnode::is_element(node, "hostdev")) {
        found = with_context(scan_hostdev(node), device_label("hostdev", ++hostdevs, node));
      }
      if (!found) return fail(found.error());
      if (!*found) continue;
      (*found)->element = node;
      (*found)->port.ordinal = ports.size();
      ports.push_back(std::move(**found));
    }
  }
  return ports;
}

}  // namespace vfhook
